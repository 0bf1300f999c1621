using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Observability;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Logs;
using Switchyard.Tests.Observability;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Mcp.Observability;

/// <summary>McpCallRecords fed to the observers land in the request log (and its lookup), on <c>/metrics</c> and as exported spans.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class McpObservabilityTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = new(2026, 12, 8, 1, 2, 3, TimeSpan.Zero);

    private static McpCallRecord Call(string method, string? target, string outcome, string? server = "fs", string route = "acme/fs",
        string requestId = "1", string? error = null) => new()
    {
        StartedAt = Start,
        Duration = TimeSpan.FromMilliseconds(250),
        Caller = new McpCaller { Id = "key:alice", Name = "alice", Team = "search", AuthType = "api_key" },
        Route = route,
        Server = server,
        Method = method,
        Target = target,
        Outcome = outcome,
        Error = error,
        ArgumentBytes = 42,
        ResultBytes = 1234,
        SessionId = "sess-1",
        ProtocolVersion = "2025-11-25",
        UpstreamProtocolVersion = "2026-07-28",
        RequestId = requestId,
    };

    [Fact]
    public async Task Every_mcp_request_becomes_a_request_log_record_with_kind_mcp_sizes_only_and_can_be_looked_up()
    {
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Logs = s.Logs with { LookupEnabled = true } });
        var observer = new McpRequestLogObserver(gw.Engine.RequestLog!);
        observer.OnCompleted(Call("tools/call", "read_file", "tool_error", requestId: "req-77", error: "file not found"));
        observer.OnCompleted(Call("tools/list", null, "ok", server: null, requestId: "req-78"));

        var records = await RequestLogTests.RecordsAsync(gw, 2);
        var mcpRecords = records.Where(r => r.TryGetProperty("kind", out var k) && k.GetString() == "mcp").ToList();
        Assert.Equal(2, mcpRecords.Count);
        var call = Assert.Single(mcpRecords, r => r.GetProperty("mcp").GetProperty("request_id").GetString() == "req-77");
        Assert.Equal("mcp", call.GetProperty("fn").GetString());
        Assert.Equal("/acme/fs/mcp", call.GetProperty("path").GetString());
        Assert.Equal("alice", call.GetProperty("api_key_name").GetString());
        Assert.Equal("search", call.GetProperty("team").GetString());
        Assert.Equal("fs", call.GetProperty("provider").GetString());
        Assert.Equal(200, call.GetProperty("status").GetInt32());
        Assert.Equal(250, call.GetProperty("duration_ms").GetDouble());
        var mcp = call.GetProperty("mcp");
        Assert.Equal(("acme/fs", "fs", "tools/call", "read_file", "read_file", "tool_error", "file not found"),
            (mcp.GetProperty("route").GetString(), mcp.GetProperty("server").GetString(), mcp.GetProperty("method").GetString(),
                mcp.GetProperty("target").GetString(), mcp.GetProperty("tool").GetString(), mcp.GetProperty("outcome").GetString(),
                mcp.GetProperty("error").GetString()));
        Assert.Equal((42, 1234), (mcp.GetProperty("argument_bytes").GetInt64(), mcp.GetProperty("result_bytes").GetInt64()));
        Assert.Equal(("sess-1", "2025-11-25", "2026-07-28", "key:alice"),
            (mcp.GetProperty("session_id").GetString(), mcp.GetProperty("protocol_version").GetString(),
                mcp.GetProperty("upstream_protocol_version").GetString(), mcp.GetProperty("caller_id").GetString()));
        Assert.False(call.GetProperty("request").TryGetProperty("body", out _));
        var list = Assert.Single(mcpRecords, r => r.GetProperty("mcp").GetProperty("request_id").GetString() == "req-78");
        Assert.False(list.GetProperty("mcp").TryGetProperty("server", out _));
        Assert.False(list.TryGetProperty("error", out _));

        // GET /v1/logs/{id} finds MCP records like any other.
        var id = call.GetProperty("_id").GetString();
        using var found = await gw.Client.GetAsync($"/v1/logs/{id}");
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        var document = JsonDocument.Parse(await found.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("req-77", document.GetProperty("mcp").GetProperty("request_id").GetString());
    }

    [Fact]
    public void Refusals_map_to_their_http_status_and_the_trace_id_follows_the_current_span()
    {
        Assert.Equal([200, 200, 200, 403, 429, 499, 504, 502],
            new[] { "ok", "tool_error", "error", "denied", "rate_limited", "cancelled", "timeout", "upstream_unavailable" }.Select(McpRequestLogObserver.StatusOf));
        var sink = new CapturingSink();
        using (var current = new Activity("test").Start())
        {
            new McpRequestLogObserver(sink).OnCompleted(Call("tools/call", "read_file", "denied", error: "tool blocked"));
            Assert.Equal(current.TraceId.ToHexString(), Assert.Single(sink.Records).TraceId);
        }
        var record = sink.Records[0];
        Assert.Equal((403, "tool blocked"), (record.Status, record.Error));
    }

    private sealed class CapturingSink : Switchyard.Core.Logs.IRequestLogSink
    {
        public List<Switchyard.Core.Logs.RequestLogRecord> Records { get; } = [];

        public bool TryWrite(Switchyard.Core.Logs.RequestLogRecord record)
        {
            Records.Add(record);
            return true;
        }
    }

    private async Task<PrometheusScrape> ScrapeUntilAsync(TestGateway gw, Func<PrometheusScrape, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var scrape = await PrometheusScrape.FetchAsync(gw.Client, new Uri(gw.BaseUrl, "/metrics"), output);
            if (done(scrape) || DateTime.UtcNow > deadline)
            {
                return scrape;
            }
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Mcp_series_on_metrics_count_requests_durations_and_tool_calls_with_bounded_labels()
    {
        await using var gw = await TestGateway.StartAsync();
        using var metrics = new McpMetrics(labelValueLimit: 3, scope: gw.Engine.Metrics);
        for (var i = 0; i < 3; i++)
        {
            metrics.OnCompleted(Call("tools/call", "read_file", "ok"));
        }
        metrics.OnCompleted(Call("tools/call", "read_file", "tool_error"));
        metrics.OnCompleted(Call("tools/call", "write_file", "ok"));
        metrics.OnCompleted(Call("tools/call", "list_dir", "ok"));
        metrics.OnCompleted(Call("tools/call", "delete_file", "ok")); // the fourth tool name: over the bound
        metrics.OnCompleted(Call("tools/list", null, "ok", server: null));

        var scrape = await ScrapeUntilAsync(gw, s => s.Has("switchyard_mcp_requests_total") && s.Sum("switchyard_mcp_requests_total") == 8);
        output.WriteLine(scrape.Text);
        Assert.Equal("COUNTER", scrape.Type("switchyard_mcp_requests_total"));
        Assert.Equal(8, scrape.Sum("switchyard_mcp_requests_total"));
        Assert.Equal(6, scrape.Sum("switchyard_mcp_requests_total", ("route", "acme/fs"), ("server", "fs"), ("method", "tools/call"), ("outcome", "ok")));
        Assert.Equal(1, scrape.Sum("switchyard_mcp_requests_total", ("server", McpMetrics.GatewayServer), ("method", "tools/list")));

        Assert.Equal("HISTOGRAM", scrape.Type("switchyard_mcp_request_duration_seconds"));
        Assert.Equal(8, scrape.Sum("switchyard_mcp_request_duration_seconds"));
        Assert.Equal(8 * 0.25, scrape.HistogramSum("switchyard_mcp_request_duration_seconds"), 6);

        Assert.Equal(7, scrape.Sum("switchyard_mcp_tool_calls_total"));
        Assert.Equal(3, scrape.Sum("switchyard_mcp_tool_calls_total", ("server", "fs"), ("tool", "read_file"), ("outcome", "ok")));
        Assert.Equal(1, scrape.Sum("switchyard_mcp_tool_calls_total", ("tool", "read_file"), ("outcome", "tool_error")));
        Assert.Equal(1, scrape.Sum("switchyard_mcp_tool_calls_total", ("tool", "_other")));
        Assert.Equal(0, scrape.Sum("switchyard_mcp_tool_calls_total", ("tool", "delete_file")));
    }

    [Fact]
    public async Task Each_mcp_request_is_exported_as_a_span_named_and_attributed_by_the_mcp_conventions()
    {
        await using var receiver = await OtlpTraceReceiver.StartAsync();
        await using var gw = await TestGateway.StartAsync(environment: new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.BaseUrl.ToString(),
            ["OTEL_BSP_SCHEDULE_DELAY"] = "50",
        });
        var tracing = new McpTracing();
        tracing.OnCompleted(Call("tools/call", "read_file", "tool_error", requestId: "req-9", error: "no such file"));
        tracing.OnCompleted(Call("resources/read", "file:///etc/motd", "ok", requestId: "req-10"));

        var spans = await receiver.WaitForAsync(s => s.Any(x => x.Name == "tools/call read_file") && s.Any(x => x.Name == "resources/read file:///etc/motd"),
            TimeSpan.FromSeconds(30));
        var call = Assert.Single(spans, s => s.Name == "tools/call read_file");
        Assert.Equal(ReceivedSpan.Server, call.Kind);
        Assert.Equal("tools/call", call.Attribute("mcp.method.name"));
        Assert.Equal("sess-1", call.Attribute("mcp.session.id"));
        Assert.Equal("2025-11-25", call.Attribute("mcp.protocol.version"));
        Assert.Equal("read_file", call.Attribute("gen_ai.tool.name"));
        Assert.Equal("execute_tool", call.Attribute("gen_ai.operation.name"));
        Assert.Equal("req-9", call.Attribute("jsonrpc.request.id"));
        Assert.Equal("tool_error", call.Attribute("error.type"));
        Assert.Equal(2, call.StatusCode); // error
        var startNanos = (ulong)(Start.ToUnixTimeMilliseconds() * 1_000_000);
        Assert.Equal(startNanos, call.StartUnixNano);
        Assert.Equal(250_000_000UL, call.EndUnixNano - call.StartUnixNano);
        var read = Assert.Single(spans, s => s.Name == "resources/read file:///etc/motd");
        Assert.Equal("file:///etc/motd", read.Attribute("mcp.resource.uri"));
        Assert.Null(read.Attribute("error.type"));
        Assert.Null(read.Attribute("gen_ai.tool.name"));
    }

    [Fact]
    public async Task The_registered_observer_runs_every_observer_even_when_one_throws()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddMcpObservability(new McpOptions());
        await using var provider = services.BuildServiceProvider();
        var all = Assert.IsType<McpObservabilityServices.ObserverList>(provider.GetRequiredService<IMcpCallObserver>());
        Assert.Contains(all.Observers, o => o is McpMetrics);
        Assert.Contains(all.Observers, o => o is McpTracing);

        var seen = new List<string>();
        var list = new McpObservabilityServices.ObserverList([new Throwing(), new Recording(seen)],
            provider.GetRequiredService<ILogger<McpObservabilityServices.ObserverList>>());
        list.OnCompleted(Call("ping", null, "ok", server: null));
        Assert.Equal(["ping"], seen);
    }

    private sealed class Throwing : IMcpCallObserver
    {
        public void OnCompleted(McpCallRecord record) => throw new InvalidOperationException("broken observer");
    }

    private sealed class Recording(List<string> seen) : IMcpCallObserver
    {
        public void OnCompleted(McpCallRecord record) => seen.Add(record.Method);
    }
}
