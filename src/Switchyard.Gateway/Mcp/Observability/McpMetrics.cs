using System.Diagnostics;
using System.Diagnostics.Metrics;
using Switchyard.Core.Telemetry;

namespace Switchyard.Gateway.Mcp.Observability;

/// <summary>
/// The MCP series on <c>/metrics</c>: <c>switchyard_mcp_requests_total{route,server,method,outcome}</c>,
/// <c>switchyard_mcp_request_duration_seconds{route,server,method,outcome}</c> and
/// <c>switchyard_mcp_tool_calls_total{server,tool,outcome}</c>. Every label value is bounded by <c>METRICS_LABEL_VALUE_LIMIT</c>
/// (later values report as <c>_other</c>), since routes, tools and methods come from upstreams and clients.
/// </summary>
public sealed class McpMetrics : IMcpCallObserver, IDisposable
{
    /// <summary>The <c>server</c> label of requests the gateway answered alone (initialize, ping, aggregated lists).</summary>
    public const string GatewayServer = "_gateway";

    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

    private readonly Meter _meter;
    private readonly BoundedLabel _routes;
    private readonly BoundedLabel _servers;
    private readonly BoundedLabel _methods;
    private readonly BoundedLabel _tools;
    private readonly BoundedLabel _outcomes;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _toolCalls;

    /// <param name="labelValueLimit">Distinct values kept per label (<c>METRICS_LABEL_VALUE_LIMIT</c>).</param>
    /// <param name="scope">
    /// The meter's scope: the engine's <see cref="SwitchyardMetrics"/>, so the gateway's <c>/metrics</c> (which keeps only its own
    /// engine's meters) reports these series; null for a meter of its own.
    /// </param>
    public McpMetrics(int labelValueLimit, object? scope)
    {
        _meter = new Meter(new MeterOptions(TelemetrySource.Name) { Version = TelemetrySource.Version, Scope = scope ?? this });
        _routes = new BoundedLabel(labelValueLimit);
        _servers = new BoundedLabel(labelValueLimit);
        _methods = new BoundedLabel(labelValueLimit);
        _tools = new BoundedLabel(labelValueLimit);
        _outcomes = new BoundedLabel(labelValueLimit);
        _requests = _meter.CreateCounter<long>("switchyard.mcp.requests", "{request}",
            "MCP requests handled (every JSON-RPC method), by route, upstream server, method and outcome");
        _duration = _meter.CreateHistogram("switchyard.mcp.request.duration", "s",
            "Time from an MCP request's arrival to its answer, by route, upstream server, method and outcome",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _toolCalls = _meter.CreateCounter<long>("switchyard.mcp.tool_calls", "{call}",
            "MCP tools/call requests, by upstream server, tool (the upstream's own name) and outcome");
    }

    /// <summary>The meter (for a meter provider to listen to).</summary>
    public Meter Meter => _meter;

    public void OnCompleted(McpCallRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var server = _servers.Get(record.Server ?? GatewayServer);
        var outcome = _outcomes.Get(record.Outcome);
        if (_requests.Enabled || _duration.Enabled)
        {
            var tags = new TagList
            {
                { "route", _routes.Get(record.Route) },
                { "server", server },
                { "method", _methods.Get(record.Method) },
                { "outcome", outcome },
            };
            _requests.Add(1, tags);
            _duration.Record(record.Duration.TotalSeconds, tags);
        }
        if (record.Method == "tools/call" && _toolCalls.Enabled)
        {
            _toolCalls.Add(1, new TagList
            {
                { "server", server },
                { "tool", _tools.Get(record.Target ?? "") },
                { "outcome", outcome },
            });
        }
    }

    public void Dispose() => _meter.Dispose();
}
