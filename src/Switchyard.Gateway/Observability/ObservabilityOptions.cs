using System.Globalization;
using OpenTelemetry.Exporter;
using Switchyard.Core;

namespace Switchyard.Gateway.Observability;

/// <summary>
/// Where metrics are served and where traces go, from the variables deployments already set: <c>ENABLE_PROMETHEUS</c>,
/// <c>METRICS_PORT</c>, <c>OTEL_EXPORTER_OTLP_*</c>, <c>OTEL_BSP_*</c>, <c>OTEL_TRACES_SAMPLER</c>, <c>OTEL_SERVICE_NAME</c> /
/// <c>SERVICE_NAME</c> and <c>OTEL_RESOURCE_ATTRIBUTES</c>. The gateway reads them itself, through the same lookup as
/// every other setting, and hands the OpenTelemetry SDK explicit values: the SDK never reads the process environment
/// behind the settings' back, and a malformed value stops start-up with a message naming it.
/// </summary>
public sealed record ObservabilityOptions
{
    public const string DefaultServiceName = "switchyard";

    /// <summary>Serve <c>/metrics</c> (<c>ENABLE_PROMETHEUS</c>, default true); false answers it with 404, as Portkey does.</summary>
    public bool EnablePrometheus { get; init; } = true;

    /// <summary>
    /// A separate listener for <c>/metrics</c> (<c>METRICS_PORT</c>; 0 picks a free port). When set, the main port no
    /// longer serves <c>/metrics</c> (an ingress in front of the main port does not expose it) and the metrics port
    /// serves nothing else.
    /// </summary>
    public int? MetricsPort { get; init; }

    /// <summary>
    /// <c>/metrics</c> answers only a gateway key with the <c>logs.read</c> or <c>admin</c> scope (<c>METRICS_REQUIRE_KEY</c>, default
    /// false: scrapes stay open, like the health routes).
    /// </summary>
    public bool MetricsRequireKey { get; init; }

    /// <summary>Where spans are exported; null (no <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>) turns tracing off.</summary>
    public Uri? OtlpTracesEndpoint { get; init; }

    /// <summary><c>OTEL_EXPORTER_OTLP_PROTOCOL</c>: <c>http/protobuf</c> (default) or <c>grpc</c>.</summary>
    public OtlpExportProtocol OtlpProtocol { get; init; } = OtlpExportProtocol.HttpProtobuf;

    /// <summary><c>OTEL_EXPORTER_OTLP_HEADERS</c> as given (<c>k=v,k2=v2</c>, values URL-encoded), checked for shape.</summary>
    public string? OtlpHeaders { get; init; }

    /// <summary>How long one export may take (<c>OTEL_EXPORTER_OTLP_TIMEOUT</c>, ms, default 10 s).</summary>
    public TimeSpan OtlpTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>service.name</c>: <c>OTEL_SERVICE_NAME</c>, else <c>SERVICE_NAME</c>, else <c>service.name</c> in <c>OTEL_RESOURCE_ATTRIBUTES</c>, else <c>switchyard</c>.</summary>
    public string ServiceName { get; init; } = DefaultServiceName;

    /// <summary>Resource attributes from <c>OTEL_RESOURCE_ATTRIBUTES</c> (percent-decoded), on every span and on <c>target_info</c>.</summary>
    public IReadOnlyList<KeyValuePair<string, object>> ResourceAttributes { get; init; } = [];

    /// <summary><c>OTEL_TRACES_SAMPLER</c>: always_on, always_off, traceidratio, parentbased_always_on (default), parentbased_always_off, parentbased_traceidratio.</summary>
    public string Sampler { get; init; } = "parentbased_always_on";

    /// <summary><c>OTEL_TRACES_SAMPLER_ARG</c>: the ratio of the traceidratio samplers (0 to 1, default 1).</summary>
    public double SamplerRatio { get; init; } = 1.0;

    /// <summary>Longest a finished span waits before it is exported (<c>OTEL_BSP_SCHEDULE_DELAY</c>, ms, default 5 s).</summary>
    public TimeSpan ExportDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Bound on one batch export (<c>OTEL_BSP_EXPORT_TIMEOUT</c>, ms, default 30 s).</summary>
    public TimeSpan ExportTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Spans held for export; beyond it new spans are dropped, never the request (<c>OTEL_BSP_MAX_QUEUE_SIZE</c>, default 2048).</summary>
    public int MaxQueueSize { get; init; } = 2048;

    /// <summary>Spans per export request (<c>OTEL_BSP_MAX_EXPORT_BATCH_SIZE</c>, default 512, at most the queue size).</summary>
    public int MaxExportBatchSize { get; init; } = 512;

    public bool TracingEnabled => OtlpTracesEndpoint is not null;

    private static readonly string[] Samplers =
        ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"];

    public static ObservabilityOptions FromEnvironment(Func<string, string?> get)
    {
        var d = new ObservabilityOptions();
        var protocol = ParseProtocol(get);
        var attributes = ParseList(get, "OTEL_RESOURCE_ATTRIBUTES");
        var resourceServiceName = attributes.LastOrDefault(a => a.Key == "service.name").Value;
        var queue = EnvironmentValues.Int(get, "OTEL_BSP_MAX_QUEUE_SIZE", d.MaxQueueSize, 1, 1_000_000);
        return d with
        {
            EnablePrometheus = EnvironmentValues.Bool(get, "ENABLE_PROMETHEUS", d.EnablePrometheus),
            MetricsRequireKey = EnvironmentValues.Bool(get, "METRICS_REQUIRE_KEY", false),
            MetricsPort = EnvironmentValues.NonEmpty(get("METRICS_PORT")) is null ? null : EnvironmentValues.Int(get, "METRICS_PORT", 0, 0, 65535),
            OtlpProtocol = protocol,
            OtlpTracesEndpoint = ParseEndpoint(get, protocol),
            OtlpHeaders = ParseHeaders(get),
            OtlpTimeout = TimeSpan.FromMilliseconds(EnvironmentValues.Int(get, First(get, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"),
                (int)d.OtlpTimeout.TotalMilliseconds, 1, 600_000)),
            ServiceName = EnvironmentValues.NonEmpty(get("OTEL_SERVICE_NAME")) ?? EnvironmentValues.NonEmpty(get("SERVICE_NAME"))
                ?? EnvironmentValues.NonEmpty(resourceServiceName) ?? d.ServiceName,
            ResourceAttributes = [.. attributes.Where(a => a.Key != "service.name").Select(a => new KeyValuePair<string, object>(a.Key, a.Value))],
            Sampler = ParseSampler(get("OTEL_TRACES_SAMPLER")) ?? d.Sampler,
            SamplerRatio = ParseRatio(get("OTEL_TRACES_SAMPLER_ARG")) ?? d.SamplerRatio,
            ExportDelay = TimeSpan.FromMilliseconds(EnvironmentValues.Int(get, "OTEL_BSP_SCHEDULE_DELAY", (int)d.ExportDelay.TotalMilliseconds, 1, 3_600_000)),
            ExportTimeout = TimeSpan.FromMilliseconds(EnvironmentValues.Int(get, "OTEL_BSP_EXPORT_TIMEOUT", (int)d.ExportTimeout.TotalMilliseconds, 1, 3_600_000)),
            MaxQueueSize = queue,
            MaxExportBatchSize = EnvironmentValues.Int(get, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", Math.Min(d.MaxExportBatchSize, queue), 1, queue),
        };
    }

    /// <summary>The signal-specific variable when it is set, else the general one (the OTLP exporter specification's order).</summary>
    private static string First(Func<string, string?> get, string specific, string general) =>
        EnvironmentValues.NonEmpty(get(specific)) is null ? general : specific;

    private static OtlpExportProtocol ParseProtocol(Func<string, string?> get)
    {
        var name = First(get, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL");
        var raw = EnvironmentValues.NonEmpty(get(name));
        return raw?.ToLowerInvariant() switch
        {
            null or "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            "grpc" => OtlpExportProtocol.Grpc,
            "http/json" => throw new FormatException($"{name}=http/json is not supported by Switchyard's exporter: use http/protobuf or grpc (an OpenTelemetry collector accepts both)."),
            _ => throw new FormatException($"{name}={raw} is not valid: use http/protobuf or grpc."),
        };
    }

    /// <summary>
    /// The traces URL. <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c> is used as given; <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is a
    /// base to which http/protobuf appends <c>/v1/traces</c> (gRPC uses it as it is), as the specification says.
    /// </summary>
    private static Uri? ParseEndpoint(Func<string, string?> get, OtlpExportProtocol protocol)
    {
        var specific = EnvironmentValues.NonEmpty(get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
        var name = specific is null ? "OTEL_EXPORTER_OTLP_ENDPOINT" : "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
        var raw = specific ?? EnvironmentValues.NonEmpty(get(name));
        if (raw is null)
        {
            return null;
        }
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new FormatException($"{name}={raw} is not valid: use an http:// or https:// URL such as http://otel-collector:4318.");
        }
        if (specific is null && protocol == OtlpExportProtocol.HttpProtobuf)
        {
            uri = new Uri(raw.TrimEnd('/') + "/v1/traces");
        }
        return uri;
    }

    private static string? ParseHeaders(Func<string, string?> get)
    {
        var name = First(get, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS");
        var raw = EnvironmentValues.NonEmpty(get(name));
        if (raw is not null)
        {
            ParseList(get, name);
        }
        return raw;
    }

    /// <summary>A <c>key=value,key2=value2</c> list with percent-encoded values (W3C baggage style, as OTEL_RESOURCE_ATTRIBUTES and the headers use).</summary>
    private static List<KeyValuePair<string, string>> ParseList(Func<string, string?> get, string name)
    {
        var list = new List<KeyValuePair<string, string>>();
        var raw = EnvironmentValues.NonEmpty(get(name));
        if (raw is null)
        {
            return list;
        }
        foreach (var pair in raw.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = eq > 0 ? pair[..eq].Trim() : "";
            if (key.Length == 0)
            {
                throw new FormatException($"{name}: '{pair}' is not valid: expected key=value pairs separated by commas.");
            }
            list.Add(new(key, Uri.UnescapeDataString(pair[(eq + 1)..].Trim())));
        }
        return list;
    }

    private static string? ParseSampler(string? raw)
    {
        var value = EnvironmentValues.NonEmpty(raw)?.ToLowerInvariant();
        if (value is not null && !Samplers.Contains(value))
        {
            throw new FormatException($"OTEL_TRACES_SAMPLER={raw} is not valid: use {string.Join(", ", Samplers)}.");
        }
        return value;
    }

    private static double? ParseRatio(string? raw)
    {
        var value = EnvironmentValues.NonEmpty(raw);
        if (value is null)
        {
            return null;
        }
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) || ratio is < 0 or > 1)
        {
            throw new FormatException($"OTEL_TRACES_SAMPLER_ARG={raw} is not valid: expected a ratio from 0 to 1.");
        }
        return ratio;
    }
}
