using OpenTelemetry.Exporter;
using Switchyard.Gateway.Observability;
using Xunit;

namespace Switchyard.Tests.Observability;

/// <summary>The metrics and tracing variables become settings; a wrong value stops start-up with a message naming it.</summary>
public sealed class ObservabilitySettingsTests
{
    private static Func<string, string?> Env(params (string, string)[] values)
    {
        var map = values.ToDictionary(v => v.Item1, v => v.Item2);
        return name => map.GetValueOrDefault(name);
    }

    [Fact]
    public void Defaults_serve_metrics_on_the_main_port_and_export_no_traces()
    {
        var o = ServerOptions.FromEnvironment(Env());
        Assert.True(o.Observability.EnablePrometheus);
        Assert.Null(o.Observability.MetricsPort);
        Assert.False(o.Observability.TracingEnabled);
        Assert.Equal("switchyard", o.Observability.ServiceName);
        Assert.False(o.Engine.Telemetry.LatestGenAiConventions);
        Assert.True(o.Engine.Telemetry.IncludeModelLabel);
        Assert.Equal(100, o.Engine.Telemetry.LabelValueLimit);
        Assert.Empty(o.Engine.Telemetry.MetadataLabelKeys);
    }

    [Fact]
    public void The_otlp_variables_follow_the_exporter_specification()
    {
        var http = ObservabilityOptions.FromEnvironment(Env(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b,tenant=t1"), ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_BSP_SCHEDULE_DELAY", "200"), ("OTEL_BSP_MAX_QUEUE_SIZE", "100"), ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"), ("SERVICE_NAME", "portkey-gateway"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=ignored,deployment.environment=prod,note=a%2Cb")));
        // The general endpoint is a base: http/protobuf appends the signal path.
        Assert.Equal(new Uri("http://collector:4318/v1/traces"), http.OtlpTracesEndpoint);
        Assert.Equal(OtlpExportProtocol.HttpProtobuf, http.OtlpProtocol);
        Assert.Equal("api-key=a%20b,tenant=t1", http.OtlpHeaders);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), http.OtlpTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(200), http.ExportDelay);
        Assert.Equal(100, http.MaxQueueSize);
        Assert.Equal(100, http.MaxExportBatchSize); // the default 512 is capped by the queue
        Assert.Equal("parentbased_traceidratio", http.Sampler);
        Assert.Equal(0.25, http.SamplerRatio);
        Assert.Equal("portkey-gateway", http.ServiceName);
        Assert.Equal([new("deployment.environment", "prod"), new KeyValuePair<string, object>("note", "a,b")], http.ResourceAttributes);

        // The traces variables win and are used as they are; gRPC takes the endpoint as it is; OTEL_SERVICE_NAME wins.
        var grpc = ObservabilityOptions.FromEnvironment(Env(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), ("OTEL_SERVICE_NAME", "otel-name"), ("SERVICE_NAME", "portkey-name")));
        Assert.Equal(new Uri("http://collector:4317"), grpc.OtlpTracesEndpoint);
        Assert.Equal(OtlpExportProtocol.Grpc, grpc.OtlpProtocol);
        Assert.Equal("otel-name", grpc.ServiceName);
        var specific = ObservabilityOptions.FromEnvironment(Env(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://b.example/custom/traces")));
        Assert.Equal(new Uri("https://b.example/custom/traces"), specific.OtlpTracesEndpoint);
        var fromResource = ObservabilityOptions.FromEnvironment(Env(("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-resource")));
        Assert.Equal("from-resource", fromResource.ServiceName);
    }

    [Theory]
    [InlineData("ENABLE_PROMETHEUS", "maybe", "ENABLE_PROMETHEUS=maybe")]
    [InlineData("METRICS_PORT", "70000", "METRICS_PORT=70000")]
    [InlineData("METRICS_PORT", "8787", "METRICS_PORT=8787 is the main PORT")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", "OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "use http/protobuf or grpc")]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", "just-a-name", "OTEL_EXPORTER_OTLP_HEADERS")]
    [InlineData("OTEL_RESOURCE_ATTRIBUTES", "=value", "OTEL_RESOURCE_ATTRIBUTES")]
    [InlineData("OTEL_TRACES_SAMPLER", "sometimes", "OTEL_TRACES_SAMPLER=sometimes")]
    [InlineData("OTEL_TRACES_SAMPLER_ARG", "2", "OTEL_TRACES_SAMPLER_ARG=2")]
    [InlineData("OTEL_BSP_SCHEDULE_DELAY", "-1", "OTEL_BSP_SCHEDULE_DELAY=-1")]
    [InlineData("METRICS_LABEL_VALUE_LIMIT", "0", "METRICS_LABEL_VALUE_LIMIT=0")]
    [InlineData("PROMETHEUS_INCLUDE_MODEL_LABEL", "perhaps", "PROMETHEUS_INCLUDE_MODEL_LABEL=perhaps")]
    [InlineData("PROMETHEUS_INCLUDE_METADATA_LABELS", "true", "needs PROMETHEUS_LABELS_METADATA_ALLOWED_KEYS")]
    public void A_wrong_value_is_refused_with_its_name(string name, string value, string message)
    {
        var ex = Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env((name, value))));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Metadata_label_keys_must_be_usable_label_names()
    {
        var ok = ServerOptions.FromEnvironment(Env(("PROMETHEUS_INCLUDE_METADATA_LABELS", "true"), ("PROMETHEUS_LABELS_METADATA_ALLOWED_KEYS", "team, env")));
        Assert.Equal(["team", "env"], ok.Engine.Telemetry.MetadataLabelKeys);
        var ignored = ServerOptions.FromEnvironment(Env(("PROMETHEUS_LABELS_METADATA_ALLOWED_KEYS", "team")));
        Assert.Empty(ignored.Engine.Telemetry.MetadataLabelKeys);
        var ex = Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env(("PROMETHEUS_INCLUDE_METADATA_LABELS", "true"),
            ("PROMETHEUS_LABELS_METADATA_ALLOWED_KEYS", "team,user-id"))));
        Assert.Contains("'user-id'", ex.Message, StringComparison.Ordinal);
    }
}
