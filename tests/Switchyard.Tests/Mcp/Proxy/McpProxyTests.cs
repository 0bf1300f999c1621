using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Proxy;
using Switchyard.Tests.Infrastructure;
using Xunit;

#pragma warning disable MCP9005 // sampling, roots and logging are deprecated in 2026-07-28 and still tested for 2025-11-25 peers.

namespace Switchyard.Tests.Mcp.Proxy;

/// <summary>One server-everything over Streamable HTTP shared by the tests of a class.</summary>
public sealed class EverythingHttpFixture : IAsyncLifetime
{
    public McpFixtureProcess Process { get; private set; } = null!;

    public async Task InitializeAsync() => Process = await McpFixtures.StartEverythingHttpAsync();

    public async Task DisposeAsync() => await Process.DisposeAsync();
}

public sealed class McpProxyTests(EverythingHttpFixture everything) : IClassFixture<EverythingHttpFixture>
{
    private const string Legacy = "2025-11-25";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private Task<McpProxyHost> StartAsync(Action<IServiceCollection>? configure = null, McpToolRules? tools = null) =>
        McpProxyHost.StartAsync(McpProxyHost.RegistryOf([McpProxyHost.HttpServer("everything", everything.Process, tools)]), configure);

    private static CancellationToken Timeout() => new CancellationTokenSource(Bound).Token;

    private static string Text(CallToolResult result) => string.Join("\n", result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    private static McpClientOptions FullClient(Func<CreateMessageRequestParams?, ValueTask<CreateMessageResult>>? sampling = null) => new()
    {
        Handlers = new McpClientHandlers
        {
            SamplingHandler = (p, _, _) => sampling?.Invoke(p) ?? ValueTask.FromResult(new CreateMessageResult
            {
                Content = [new TextContentBlock { Text = "sampled-by-test" }],
                Model = "test-model",
                Role = Role.Assistant,
            }),
            ElicitationHandler = (_, _) => ValueTask.FromResult(new ElicitResult { Action = "decline" }),
            RootsHandler = (_, _) => ValueTask.FromResult(new ListRootsResult { Roots = [new Root { Uri = "file:///tmp/proxy-test-root", Name = "proxy-test-root" }] }),
        },
    };

    [Theory]
    [InlineData(Legacy)]
    [InlineData(null)]
    public async Task Tools_prompts_and_resources_relay_in_both_downstream_eras(string? version)
    {
        await using var host = await StartAsync();
        await using var client = await host.ConnectAsync("everything", version, ct: Timeout());
        Assert.Equal(version ?? "2026-07-28", client.NegotiatedProtocolVersion);

        var tools = await client.ListToolsAsync(cancellationToken: Timeout());
        Assert.Equal(13, tools.Count);
        Assert.Contains(tools, t => t.Name == "echo");

        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "through the gateway" }, cancellationToken: Timeout());
        Assert.Contains("through the gateway", Text(echo));
        var sum = await client.CallToolAsync("get-sum", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 40 }, cancellationToken: Timeout());
        Assert.Contains("42", Text(sum));

        var prompts = await client.ListPromptsAsync(cancellationToken: Timeout());
        Assert.NotEmpty(prompts);
        var simple = prompts.First(p => p.Name.Contains("simple", StringComparison.Ordinal));
        var prompt = await client.GetPromptAsync(simple.Name, cancellationToken: Timeout());
        Assert.NotEmpty(prompt.Messages);

        var resources = await client.ListResourcesAsync(cancellationToken: Timeout());
        Assert.NotEmpty(resources);
        var read = await client.ReadResourceAsync(resources[0].Uri, cancellationToken: Timeout());
        Assert.Equal(resources[0].Uri, read.Contents[0].Uri);
    }

    [Theory]
    [InlineData(Legacy)]
    [InlineData(null)]
    public async Task Upstream_client_capabilities_mirror_the_downstream_client(string? version)
    {
        await using var host = await StartAsync();
        await using var plain = await host.ConnectAsync("everything", version, ct: Timeout());
        await using var full = await host.ConnectAsync("everything", version, FullClient(), Timeout());
        Assert.Equal(13, (await plain.ListToolsAsync(cancellationToken: Timeout())).Count);
        var tools = await full.ListToolsAsync(cancellationToken: Timeout());
        Assert.Equal(16, tools.Count);
        Assert.Contains(tools, t => t.Name == "trigger-sampling-request");
    }

    [Theory]
    [InlineData(Legacy)]
    [InlineData(null)]
    public async Task Progress_is_relayed_to_the_request_that_carries_the_token(string? version)
    {
        await using var host = await StartAsync();
        await using var client = await host.ConnectAsync("everything", version, ct: Timeout());
        var reports = new ConcurrentQueue<ProgressNotificationValue>();
        var progress = new SynchronousProgress(reports.Enqueue);
        var result = await client.CallToolAsync("trigger-long-running-operation", new Dictionary<string, object?> { ["duration"] = 1, ["steps"] = 3 },
            progress, cancellationToken: Timeout());
        Assert.Contains("Long running operation completed", Text(result));
        var deadline = DateTime.UtcNow + Bound;
        while (reports.Count < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        // Steps 1 and 2 arrive well before the result; step 3 races the result inside the SDK's concurrent message dispatch
        // (the gateway waits a short grace for it, see docs/mcp-protocol.md), so it is not asserted here.
        var seen = reports.Select(r => r.Progress).ToList();
        Assert.True(seen.Count >= 2, $"expected progress notifications 1 and 2, got {string.Join(",", seen)}");
        Assert.Equal(1, seen[0]);
        Assert.Equal(2, seen[1]);
    }

    private sealed class SynchronousProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report(value);
    }

    [Theory]
    [InlineData(Legacy)]
    [InlineData(null)]
    public async Task Sampling_round_trips_through_the_gateway(string? version)
    {
        await using var host = await StartAsync();
        var asked = 0;
        await using var client = await host.ConnectAsync("everything", version, FullClient(p =>
        {
            Interlocked.Increment(ref asked);
            Assert.Contains("gateway sampling", JsonSerializer.Serialize(p!.Messages, McpJsonUtilities.DefaultOptions));
            return ValueTask.FromResult(new CreateMessageResult { Content = [new TextContentBlock { Text = "sampled-by-test" }], Model = "m", Role = Role.Assistant });
        }), Timeout());
        var result = await client.CallToolAsync("trigger-sampling-request", new Dictionary<string, object?> { ["prompt"] = "gateway sampling", ["maxTokens"] = 20 },
            cancellationToken: Timeout());
        Assert.Equal(1, asked);
        Assert.Contains("sampled-by-test", Text(result));
        if (version is null)
        {
            // The modern era has no server-to-client requests: the gateway mapped the upstream's sampling request to MRTR.
            Assert.Equal(0, host.Services.GetRequiredService<McpPendingCalls>().Count);
        }
    }

    [Theory]
    [InlineData(Legacy)]
    [InlineData(null)]
    public async Task Elicitation_round_trips_through_the_gateway(string? version)
    {
        await using var host = await StartAsync();
        await using var client = await host.ConnectAsync("everything", version, FullClient(), Timeout());
        var result = await client.CallToolAsync("trigger-elicitation-request", cancellationToken: Timeout());
        Assert.Contains("declined", Text(result), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Roots_requests_reach_the_downstream_client()
    {
        await using var host = await StartAsync();
        await using var client = await host.ConnectAsync("everything", Legacy, FullClient(), Timeout());
        var result = await client.CallToolAsync("get-roots-list", cancellationToken: Timeout());
        Assert.Contains("proxy-test-root", Text(result));
    }

    [Fact]
    public async Task Sessions_have_their_own_ids_and_upstream_sessions_and_end_on_delete()
    {
        await using var host = await StartAsync();
        using var http = new HttpClient();
        var first = await InitializeAsync(http, host.Endpoint("everything"));
        var second = await InitializeAsync(http, host.Endpoint("everything"));
        Assert.NotEqual(first, second);
        Assert.Equal(2, host.Connector.Connections);

        // The same session id on another route is not found.
        var registry = McpProxyHost.RegistryOf([McpProxyHost.HttpServer("everything", everything.Process), McpProxyHost.HttpServer("other", everything.Process)]);
        host.Registry.Set(registry);
        using (var elsewhere = await PostAsync(http, host.Endpoint("other"), first, """{"jsonrpc":"2.0","id":2,"method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
            Assert.Contains("Session not found", await elsewhere.Content.ReadAsStringAsync());
        }

        using (var list = await PostAsync(http, host.Endpoint("everything"), first, """{"jsonrpc":"2.0","id":2,"method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            Assert.Contains("\"echo\"", await list.Content.ReadAsStringAsync());
        }

        using (var delete = new HttpRequestMessage(HttpMethod.Delete, host.Endpoint("everything")))
        {
            delete.Headers.Add("Mcp-Session-Id", first);
            delete.Headers.Add("Mcp-Protocol-Version", Legacy);
            using var deleted = await http.SendAsync(delete);
            Assert.True(deleted.IsSuccessStatusCode, deleted.StatusCode.ToString());
        }
        using (var reuse = await PostAsync(http, host.Endpoint("everything"), first, """{"jsonrpc":"2.0","id":3,"method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.NotFound, reuse.StatusCode);
        }
        using (var other = await PostAsync(http, host.Endpoint("everything"), second, """{"jsonrpc":"2.0","id":3,"method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }
        var bindings = host.Services.GetRequiredService<McpSessionBindings>();
        Assert.False(bindings.TryGet(first, out _, out _));
        Assert.True(bindings.TryGet(second, out var route, out _));
        Assert.Equal("everything", route);
    }

    [Fact]
    public async Task Logging_level_of_one_session_does_not_reach_another()
    {
        await using var host = await StartAsync();
        var messagesA = new ConcurrentQueue<string>();
        var messagesB = new ConcurrentQueue<string>();
        await using var a = await host.ConnectAsync("everything", Legacy, ct: Timeout());
        await using var b = await host.ConnectAsync("everything", Legacy, ct: Timeout());
        await using var regA = a.RegisterNotificationHandler(NotificationMethods.LoggingMessageNotification, (n, _) => { messagesA.Enqueue(n.Params?.ToJsonString() ?? ""); return default; });
        await using var regB = b.RegisterNotificationHandler(NotificationMethods.LoggingMessageNotification, (n, _) => { messagesB.Enqueue(n.Params?.ToJsonString() ?? ""); return default; });
        await a.SetLoggingLevelAsync(LoggingLevel.Debug, cancellationToken: Timeout());
        var toggled = await a.CallToolAsync("toggle-simulated-logging", cancellationToken: Timeout());
        Assert.Contains("Started", Text(toggled), StringComparison.OrdinalIgnoreCase);
        var deadline = DateTime.UtcNow + Bound;
        while (messagesA.IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.False(messagesA.IsEmpty, "session A received no log messages from its upstream session");
        // B's upstream session never had logging turned on; give it as long as A needed and then some.
        await b.PingAsync(cancellationToken: Timeout());
        await Task.Delay(500);
        Assert.Empty(messagesB);
        await a.CallToolAsync("toggle-simulated-logging", cancellationToken: Timeout());
    }

    [Fact]
    public async Task Unknown_server_gets_404_with_a_json_rpc_error()
    {
        await using var host = await StartAsync();
        using var http = new HttpClient();
        using var response = await PostAsync(http, host.Endpoint("nope"), null, InitializeBody);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(McpRouteResolution.UnknownServerCode, body["error"]!["code"]!.GetValue<int>());
        Assert.Equal("Unknown MCP server 'nope'", body["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server_tool_rules_filter_the_list_and_refuse_the_call()
    {
        await using var host = await StartAsync(tools: new McpToolRules { Allowed = FrozenSet.ToFrozenSet(["echo", "get-sum"]) });
        foreach (var version in new[] { Legacy, null })
        {
            await using var client = await host.ConnectAsync("everything", version, ct: Timeout());
            var tools = await client.ListToolsAsync(cancellationToken: Timeout());
            Assert.Equal(["echo", "get-sum"], tools.Select(t => t.Name).Order().ToArray());
            var refused = await Assert.ThrowsAsync<McpProtocolException>(() =>
                client.CallToolAsync("get-tiny-image", cancellationToken: Timeout()).AsTask());
            Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
        }
    }

    [Fact]
    public async Task A_pinned_tool_is_refused_and_observers_see_every_request()
    {
        var observer = new RecordingObserver();
        await using var host = await StartAsync(services =>
        {
            services.AddSingleton<IMcpPolicy>(new PinBlockingPolicy("echo"));
            services.AddSingleton<IMcpCallObserver>(observer);
        });
        await using var client = await host.ConnectAsync("everything", Legacy, ct: Timeout());
        var refused = await Assert.ThrowsAsync<McpProtocolException>(() =>
            client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: Timeout()).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
        Assert.Contains("pinned", refused.Message);
        var sum = await client.CallToolAsync("get-sum", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: Timeout());
        Assert.Contains("3", Text(sum));

        var denied = Assert.Single(observer.Records, r => r.Method == "tools/call" && r.Target == "echo");
        Assert.Equal("denied", denied.Outcome);
        var ok = Assert.Single(observer.Records, r => r.Method == "tools/call" && r.Target == "get-sum");
        Assert.Equal("ok", ok.Outcome);
        Assert.Equal("everything", ok.Server);
        Assert.Equal("everything", ok.Route);
        Assert.True(ok.ArgumentBytes > 0 && ok.ResultBytes > 0);
        Assert.NotNull(ok.SessionId);
        Assert.Equal(Legacy, ok.ProtocolVersion);
    }

    [Fact]
    public async Task A_stdio_upstream_works_in_both_eras()
    {
        await using var host = await McpProxyHost.StartAsync(McpProxyHost.RegistryOf([McpProxyHost.StdioEverything("local")]));
        foreach (var version in new[] { Legacy, null })
        {
            await using var client = await host.ConnectAsync("local", version, ct: Timeout());
            var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "over stdio" }, cancellationToken: Timeout());
            Assert.Contains("over stdio", Text(echo));
        }
    }

    [Fact]
    public async Task A_slow_upstream_request_times_out_with_a_json_rpc_error()
    {
        var slow = McpProxyHost.HttpServer("slow", everything.Process) with { RequestTimeout = TimeSpan.FromSeconds(1) };
        await using var host = await McpProxyHost.StartAsync(McpProxyHost.RegistryOf([slow]));
        await using var client = await host.ConnectAsync("slow", Legacy, ct: Timeout());
        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("trigger-long-running-operation",
            new Dictionary<string, object?> { ["duration"] = 20, ["steps"] = 2 }, cancellationToken: Timeout()).AsTask());
        Assert.Contains("did not answer within 1 s", error.Message);
        // The session and its upstream connection are still usable afterwards.
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "after timeout" }, cancellationToken: Timeout());
        Assert.Contains("after timeout", Text(echo));
    }

    [Fact]
    public async Task A_legacy_sse_upstream_works()
    {
        await using var sse = await McpFixtures.StartEverythingSseAsync();
        var server = new McpUpstreamServer { Id = "old", Name = "old", Transport = McpUpstreamTransport.Sse, Url = new Uri(sse.BaseUrl, "/sse") };
        await using var host = await McpProxyHost.StartAsync(McpProxyHost.RegistryOf([server]));
        await using var client = await host.ConnectAsync("old", ct: Timeout());
        var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "over sse" }, cancellationToken: Timeout());
        Assert.Contains("over sse", Text(echo));
    }

    private const string InitializeBody =
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";

    private static async Task<string> InitializeAsync(HttpClient http, Uri endpoint)
    {
        using var response = await PostAsync(http, endpoint, null, InitializeBody);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var id = response.Headers.GetValues("Mcp-Session-Id").Single();
        await response.Content.ReadAsStringAsync();
        using var initialized = await PostAsync(http, endpoint, id, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        return id;
    }

    internal static async Task<HttpResponseMessage> PostAsync(HttpClient http, Uri endpoint, string? sessionId, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (sessionId is not null)
        {
            request.Headers.Add("Mcp-Session-Id", sessionId);
            request.Headers.Add("Mcp-Protocol-Version", Legacy);
        }
        return await http.SendAsync(request);
    }
}

internal sealed class RecordingObserver : IMcpCallObserver
{
    private readonly ConcurrentQueue<McpCallRecord> _records = new();

    public IReadOnlyList<McpCallRecord> Records => [.. _records];

    public void OnCompleted(McpCallRecord record) => _records.Enqueue(record);
}

/// <summary>The server lists' policy, with one tool blocked as if its pinned definition had changed.</summary>
internal sealed class PinBlockingPolicy(string blocked) : IMcpPolicy
{
    private readonly ServerListsOnlyPolicy _inner = new();

    public bool AllowsTool(McpCaller caller, McpUpstreamServer server, string tool) => _inner.AllowsTool(caller, server, tool);

    public IReadOnlyList<Tool> ReviewDefinitions(McpUpstreamServer server, IReadOnlyList<Tool> tools) => tools;

    public bool IsBlockedByPin(McpUpstreamServer server, string tool, out string message)
    {
        message = $"Tool '{tool}' changed since it was pinned";
        return tool == blocked;
    }

    public ValueTask<McpAdmission> AdmitCallAsync(McpCaller caller, McpRoute route, McpUpstreamServer server, string tool, CancellationToken ct) =>
        _inner.AdmitCallAsync(caller, route, server, tool, ct);
}
