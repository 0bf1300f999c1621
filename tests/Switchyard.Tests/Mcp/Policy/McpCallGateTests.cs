using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Policy;
using Switchyard.Gateway.Mcp.Proxy;
using Xunit;
using static Switchyard.Tests.Mcp.Policy.McpPolicyTestKit;

namespace Switchyard.Tests.Mcp.Policy;

/// <summary>The call gate on a bare web application (Kestrel on 127.0.0.1), a stub endpoint standing in for the proxy.</summary>
public sealed class McpCallGateTests
{
    private sealed class Recorder : IMcpCallObserver
    {
        public List<McpCallRecord> Records { get; } = [];

        public void OnCompleted(McpCallRecord record)
        {
            lock (Records)
            {
                Records.Add(record);
            }
        }
    }

    private sealed class Host : IAsyncDisposable
    {
        public required WebApplication App { get; init; }
        public required HttpClient Client { get; init; }
        public required Recorder Observer { get; init; }
        public required List<string> Seen { get; init; }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }

    /// <summary>The route step is stubbed: the test's route is left on every request, the caller named by the x-test-caller header.</summary>
    private static async Task<Host> StartAsync(McpRoute route, TimeProvider? time = null, McpOptions? options = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var recorder = new Recorder();
        builder.Services.AddSingleton<IMcpCallObserver>(recorder);
        builder.Services.AddSingleton(NewPolicy(time: time));
        builder.Services.AddMcpPolicy(options ?? new McpOptions());
        var app = builder.Build();
        var seen = new List<string>();
        var gate = app.Services.GetRequiredService<McpCallGate>();
        app.Use((context, next) =>
        {
            context.Items[McpRouteResolution.ItemKey] = route;
            if (context.Request.Headers["x-test-caller"] is [{ } name])
            {
                Caller(name).AttachTo(context);
            }
            return next(context);
        });
        app.Use((context, next) => gate.InvokeAsync(context, next));
        async Task Proxy(HttpContext context)
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            lock (seen)
            {
                seen.Add(body);
            }
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"jsonrpc":"2.0","id":1,"result":{"content":[]}}""");
        }
        app.MapMethods("/{server}/mcp", ["POST", "GET"], Proxy);
        app.MapMethods("/{workspace}/{server}/mcp", ["POST", "GET"], Proxy);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Host
        {
            App = app,
            Client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) },
            Observer = recorder,
            Seen = seen,
        };
    }

    private static string Call(object id, string tool, string arguments = """{"message":"hi"}""") =>
        "{\"jsonrpc\":\"2.0\",\"id\":" + JsonSerializer.Serialize(id) + ",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool + "\",\"arguments\":" + arguments + "}}";

    private static async Task<(HttpStatusCode Status, HttpResponseMessage Response, string Body)> PostAsync(HttpClient client, string body, string caller = "alice", string path = "/everything/mcp")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-test-caller", caller);
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        var response = await client.SendAsync(request);
        return (response.StatusCode, response, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_tool_that_is_not_allowed_gets_the_json_rpc_error_with_the_request_id_and_is_recorded()
    {
        var server = UpstreamServer("everything", tools: Rules(null, "printEnv"));
        await using var host = await StartAsync(Route(server));
        var (status, response, body) = await PostAsync(host.Client, Call("req-7", "printEnv"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("2.0", json.RootElement.GetProperty("jsonrpc").GetString());
        Assert.Equal("req-7", json.RootElement.GetProperty("id").GetString());
        Assert.Equal(-32602, json.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("Tool 'printEnv' is not allowed", json.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.False(json.RootElement.TryGetProperty("result", out _));
        Assert.Empty(host.Seen);
        var record = Assert.Single(host.Observer.Records);
        Assert.Equal(("denied", "tools/call", "everything", "printEnv", "key:alice", "req-7", "-32602"),
            (record.Outcome, record.Method, record.Server, record.Target, record.Caller.Id, record.RequestId, record.Error));
        Assert.Equal("""{"message":"hi"}""".Length, record.ArgumentBytes);

        // A numeric id comes back as a number.
        var (_, _, second) = await PostAsync(host.Client, Call(42, "printEnv"));
        Assert.Equal(42, JsonDocument.Parse(second).RootElement.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task A_rate_limited_call_gets_429_with_retry_after_and_a_json_rpc_error_while_another_tool_still_works()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 8, 3, 0, 15, TimeSpan.Zero));
        var server = UpstreamServer("everything", limits: Limit(2, TimeSpan.FromMinutes(1), sliding: false));
        await using var host = await StartAsync(Route(server), time);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(host.Client, Call(1, "echo"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(host.Client, Call(2, "echo"))).Status);
        var (status, response, body) = await PostAsync(host.Client, Call(3, "echo"));

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("45", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(3, json.RootElement.GetProperty("id").GetInt32());
        Assert.Equal(McpRateLimiter.RateLimitedCode, json.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("Rate limit exceeded for tool 'echo'", json.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, host.Seen.Count);
        Assert.Equal("rate_limited", Assert.Single(host.Observer.Records).Outcome);

        // Another tool and another caller still go through.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(host.Client, Call(4, "add"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(host.Client, Call(5, "echo"), caller: "bob")).Status);
        Assert.Equal(4, host.Seen.Count);
    }

    [Fact]
    public async Task Allowed_calls_and_everything_else_reach_the_proxy_with_the_body_unchanged()
    {
        var server = UpstreamServer("everything", tools: Rules(null, "printEnv"));
        await using var host = await StartAsync(Route(server));
        var big = new string('x', 200_000);
        string[] bodies =
        [
            Call("a", "echo", $$"""{"message":"{{big}}"}"""),
            """{"jsonrpc":"2.0","id":1,"method":"tools/list"}""",
            """{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""",
            // A batch and a body that is not JSON are for the SDK to answer.
            "[" + Call(3, "printEnv") + "]",
            "{ tools/call, not json",
            // A notification has no id: nothing to answer.
            """{"jsonrpc":"2.0","method":"tools/call","params":{"name":"printEnv"}}""",
        ];
        foreach (var body in bodies)
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(host.Client, body)).Status);
        }
        Assert.Equal(bodies, host.Seen);
        Assert.Empty(host.Observer.Records);
        // A GET (the legacy stream) passes without a body.
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/everything/mcp")).StatusCode);
    }

    [Fact]
    public async Task An_escaped_method_name_is_still_seen_as_tools_call()
    {
        var server = UpstreamServer("everything", tools: Rules(null, "printEnv"));
        await using var host = await StartAsync(Route(server));
        var body = """{"jsonrpc":"2.0","id":9,"method":"tools\u002fcall","params":{"name":"print\u0045nv"}}""";
        var (status, _, text) = await PostAsync(host.Client, body);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(-32602, JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Empty(host.Seen);
    }

    [Fact]
    public async Task A_virtual_server_resolves_prefixed_names_and_leaves_unknown_prefixes_to_the_proxy()
    {
        var everything = UpstreamServer("everything", tools: Rules(null, "printEnv"));
        var memory = UpstreamServer("memory");
        var route = new McpRoute { Path = "v/dev", Upstreams = [everything, memory], Prefixed = true, Separator = "__" };
        await using var host = await StartAsync(route);
        var (_, _, denied) = await PostAsync(host.Client, Call(1, "everything__printEnv"), path: "/v/dev/mcp");
        Assert.Equal("Tool 'printEnv' is not allowed", JsonDocument.Parse(denied).RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("v/dev", Assert.Single(host.Observer.Records).Route);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(host.Client, Call(2, "memory__printEnv"), path: "/v/dev/mcp")).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(host.Client, Call(3, "nobody__printEnv"), path: "/v/dev/mcp")).Status);
        Assert.Equal(2, host.Seen.Count);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_with_413()
    {
        var server = UpstreamServer("everything");
        await using var host = await StartAsync(Route(server), options: new McpOptions { MaxBodyBytes = 4096 });
        var (status, _, body) = await PostAsync(host.Client, Call(1, "echo", $$"""{"message":"{{new string('y', 5000)}}"}"""));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("MCP_MAX_BODY_BYTES", body, StringComparison.Ordinal);
        Assert.Empty(host.Seen);

        // Chunked, without a Content-Length: the read stops at the limit.
        var chunked = new HttpRequestMessage(HttpMethod.Post, "/everything/mcp")
        {
            Content = new StringContent(Call(2, "echo", $$"""{"message":"{{new string('z', 9000)}}"}"""), System.Text.Encoding.UTF8, "application/json"),
        };
        chunked.Headers.TransferEncodingChunked = true;
        using var response = await host.Client.SendAsync(chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(-32600, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Empty(host.Seen);
        // Under the limit, chunked, passes whole.
        var small = new HttpRequestMessage(HttpMethod.Post, "/everything/mcp") { Content = new StringContent(Call(3, "echo"), System.Text.Encoding.UTF8, "application/json") };
        small.Headers.TransferEncodingChunked = true;
        using var passed = await host.Client.SendAsync(small);
        Assert.Equal(HttpStatusCode.OK, passed.StatusCode);
        Assert.Equal([Call(3, "echo")], host.Seen);
    }
}
