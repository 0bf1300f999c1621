using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Switchyard.Core.Errors;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Telemetry;
using Switchyard.Gateway.Endpoints;
using Switchyard.Gateway.Hosting;

namespace Switchyard.Gateway.Observability;

/// <summary>
/// Hosts the engine's telemetry with the OpenTelemetry SDK: a meter provider (the <c>Switchyard</c> meters and the
/// .NET runtime's) behind the Prometheus exporter at <c>/metrics</c>, and, when an OTLP endpoint is configured, a
/// tracer provider exporting the <c>Switchyard</c> spans. Every SDK setting is given explicitly from
/// <see cref="ObservabilityOptions"/>, never left for the SDK to read from the process environment.
/// </summary>
internal static class TelemetryHosting
{
    /// <summary>The static meter the response cache counts lookups and store errors on.</summary>
    private const string CacheMeter = "Switchyard.Cache";

    public static void AddTelemetry(this WebApplicationBuilder builder, ServerOptions options)
    {
        var o = options.Observability;
        if (!o.EnablePrometheus && !o.TracingEnabled)
        {
            return;
        }
        var otel = builder.Services.AddOpenTelemetry();
        // Clear() drops the SDK's default detectors, which read OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES from the process.
        otel.ConfigureResource(r => r.Clear()
            .AddAttributes(o.ResourceAttributes)
            .AddService(o.ServiceName, serviceVersion: HealthEndpoint.Version)
            .AddTelemetrySdk());
        if (o.EnablePrometheus)
        {
            otel.WithMetrics(metrics =>
            {
                metrics.AddMeter(TelemetrySource.Name, CacheMeter)
                    .AddRuntimeInstrumentation()
                    // A scrape every few seconds is cheap; a cached answer would show a stale view of a counter just incremented.
                    .AddPrometheusExporter(p => p.ScrapeResponseCacheDurationMilliseconds = 0);
                // Several engines may live in one process (tests, an application hosting gateways in-process), each with its
                // own meter under the same name; this gateway's /metrics reports its own engine's only.
                ((IDeferredMeterProviderBuilder)metrics).Configure((sp, b) =>
                {
                    var own = sp.GetRequiredService<SwitchyardEngine>().Metrics;
                    b.AddView(instrument => instrument.Meter.Scope is SwitchyardMetrics other && !ReferenceEquals(other, own)
                        ? MetricStreamConfiguration.Drop
                        : null);
                });
            });
        }
        if (o.TracingEnabled)
        {
            otel.WithTracing(tracing => tracing
                .AddSource(TelemetrySource.Name)
                .SetSampler(CreateSampler(o))
                .AddOtlpExporter(otlp =>
                {
                    otlp.Endpoint = o.OtlpTracesEndpoint!;
                    otlp.Protocol = o.OtlpProtocol;
                    otlp.Headers = o.OtlpHeaders;
                    otlp.TimeoutMilliseconds = (int)o.OtlpTimeout.TotalMilliseconds;
                    otlp.ExportProcessorType = ExportProcessorType.Batch;
                    otlp.BatchExportProcessorOptions = new BatchExportActivityProcessorOptions
                    {
                        ScheduledDelayMilliseconds = (int)o.ExportDelay.TotalMilliseconds,
                        ExporterTimeoutMilliseconds = (int)o.ExportTimeout.TotalMilliseconds,
                        MaxQueueSize = o.MaxQueueSize,
                        MaxExportBatchSize = o.MaxExportBatchSize,
                    };
                }));
        }
    }

    /// <summary>Maps <c>/metrics</c> (unless <c>ENABLE_PROMETHEUS=false</c>, when it falls through to the 404 of unknown routes).</summary>
    public static void MapTelemetry(this WebApplication app, ServerOptions options)
    {
        if (!options.Observability.EnablePrometheus)
        {
            return;
        }
        var listener = app.Services.GetRequiredService<MetricsListener>();
        var gate = options.Observability.MetricsRequireKey ? app.Services.GetRequiredService<ApiKeyGate>() : null;
        // With a metrics port, /metrics lives there alone: the main port answers it with 404 like any unknown route.
        app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null,
            configureBranchedPipeline: branch => branch.Use((context, next) =>
                listener.IsConfigured && !listener.Owns(context) ? NotFound(context)
                : gate is not null ? RequireKeyAsync(gate, context, next)
                : next(context)),
            optionsName: null);
    }

    /// <summary><c>METRICS_REQUIRE_KEY</c>: a scrape must bring a gateway key (Prometheus sends it as <c>Authorization: Bearer</c>) allowed to read.</summary>
    private static async Task RequireKeyAsync(ApiKeyGate gate, HttpContext context, RequestDelegate next)
    {
        var (key, refusal) = await gate.AuthenticateAsync(context.Request, context.RequestAborted);
        if (key is not null && !key.Scopes.Contains(Core.Security.ApiKeys.ApiKeyScopes.LogsRead) && !key.Scopes.Contains(Core.Security.ApiKeys.ApiKeyScopes.Admin))
        {
            refusal = AuthRefusal.Forbidden($"API key '{key.Name}' needs the logs.read or admin scope to read /metrics");
        }
        if (refusal is null)
        {
            await next(context);
            return;
        }
        await ApiKeyGate.WriteAsync(context, refusal);
    }

    /// <summary>On the metrics port, everything but <c>/metrics</c> is 404 (the API stays on the main port).</summary>
    public static void UseMetricsPortIsolation(this WebApplication app)
    {
        var listener = app.Services.GetRequiredService<MetricsListener>();
        if (!listener.IsConfigured)
        {
            return;
        }
        app.Use((context, next) => listener.Owns(context) && !context.Request.Path.Equals("/metrics", StringComparison.Ordinal)
            ? NotFound(context)
            : next(context));
    }

    private static Task NotFound(HttpContext context) => GatewayApp.WriteErrorAsync(context, new GatewayError(ErrorCategory.NotFound, "Not Found"));

    private static Sampler CreateSampler(ObservabilityOptions o) => o.Sampler switch
    {
        "always_on" => new AlwaysOnSampler(),
        "always_off" => new AlwaysOffSampler(),
        "traceidratio" => new TraceIdRatioBasedSampler(o.SamplerRatio),
        "parentbased_always_off" => new ParentBasedSampler(new AlwaysOffSampler()),
        "parentbased_traceidratio" => new ParentBasedSampler(new TraceIdRatioBasedSampler(o.SamplerRatio)),
        _ => new ParentBasedSampler(new AlwaysOnSampler()),
    };
}
