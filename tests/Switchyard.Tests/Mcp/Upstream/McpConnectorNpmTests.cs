using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Registry;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Mcp.Upstream;

/// <summary>The connector against the real npm servers: Streamable HTTP, HTTP+SSE and stdio, era memory, stdio supervision.</summary>
public sealed class McpConnectorNpmTests
{
    private static readonly McpUpstreamContext Anonymous = new() { Caller = McpCaller.Anonymous };

    private static McpUpstreamServer Http(string id, Uri url, McpUpstreamTransport transport) =>
        new() { Id = id, Name = id, Url = url, Transport = transport, ConnectTimeout = TimeSpan.FromSeconds(30) };

    private static McpUpstreamServer Stdio(string id, string script, IReadOnlyList<string>? args = null, IReadOnlyDictionary<string, string>? env = null) => new()
    {
        Id = id,
        Name = id,
        Transport = McpUpstreamTransport.Stdio,
        Command = "node",
        Arguments = [script, .. args ?? []],
        Environment = env ?? new Dictionary<string, string>(),
        WorkingDirectory = McpFixtures.Directory,
        ConnectTimeout = TimeSpan.FromSeconds(30),
    };

    private static string Text(CallToolResult result) => string.Concat(result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    [Fact]
    public async Task Streamable_http_upstream_lists_and_calls_and_its_era_is_remembered()
    {
        await using var fixture = await McpFixtures.StartEverythingHttpAsync();
        using var connector = new McpConnector(NullLoggerFactory.Instance, TimeProvider.System);
        var server = Http("everything", new Uri(fixture.BaseUrl, "/mcp"), McpUpstreamTransport.Auto);
        var options = new McpClientOptions();
        await using (var client = await connector.ConnectAsync(server, options, Anonymous, CancellationToken.None))
        {
            Assert.Equal("2025-11-25", client.NegotiatedProtocolVersion);
            Assert.NotNull(client.SessionId);
            var tools = await client.ListToolsAsync();
            Assert.Contains(tools, t => t.Name == "echo");
            var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "hi there" });
            Assert.Contains("hi there", Text(result), StringComparison.Ordinal);
        }
        Assert.Equal("2025-11-25", connector.RememberedProtocolVersion("everything"));
        Assert.Null(options.ProtocolVersion);

        // The next connection asks for the remembered version directly, and the caller's options come back as they were.
        await using (var again = await connector.ConnectAsync(server, options, Anonymous, CancellationToken.None))
        {
            Assert.Equal("2025-11-25", again.NegotiatedProtocolVersion);
            Assert.NotEmpty(await again.ListToolsAsync());
        }
        Assert.Null(options.ProtocolVersion);
        var health = connector.Snapshot()["everything"];
        Assert.Equal(("http-sse", "2025-11-25", 2L, 0L), (health.Transport, health.ProtocolVersion, health.Connects, health.Failures));
        Assert.NotNull(health.LastConnectedAt);
    }

    [Fact]
    public async Task Sse_upstream_lists_and_calls_explicitly_and_by_auto_detection()
    {
        await using var fixture = await McpFixtures.StartEverythingSseAsync();
        using var connector = new McpConnector(NullLoggerFactory.Instance, TimeProvider.System);
        foreach (var (id, mode) in new[] { ("sse", McpUpstreamTransport.Sse), ("auto", McpUpstreamTransport.Auto) })
        {
            var server = Http(id, new Uri(fixture.BaseUrl, "/sse"), mode);
            await using var client = await connector.ConnectAsync(server, new McpClientOptions(), Anonymous, CancellationToken.None);
            var tools = await client.ListToolsAsync();
            Assert.Contains(tools, t => t.Name == "get-sum");
            var result = await client.CallToolAsync("get-sum", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 40 });
            Assert.Contains("42", Text(result), StringComparison.Ordinal);
            Assert.NotNull(connector.RememberedProtocolVersion(id));
        }
    }

    [Fact]
    public async Task An_unreachable_http_upstream_fails_with_a_clear_error_in_health()
    {
        using var connector = new McpConnector(NullLoggerFactory.Instance, TimeProvider.System);
        // A port that was free a moment ago: nothing listens there.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var server = Http("down", new Uri($"http://127.0.0.1:{port}/mcp"), McpUpstreamTransport.StreamableHttp) with { ConnectTimeout = TimeSpan.FromSeconds(10) };
        var ex = await Assert.ThrowsAsync<McpUpstreamUnavailableException>(() => connector.ConnectAsync(server, new McpClientOptions(), Anonymous, CancellationToken.None));
        Assert.Equal("down", ex.ServerId);
        Assert.StartsWith("Upstream MCP server 'down'", ex.Message, StringComparison.Ordinal);
        var health = connector.Snapshot()["down"];
        Assert.Equal(ex.Message, health.LastError);
        Assert.Equal(1, health.Failures);
        Assert.Null(health.RetryAt);
    }

    [Fact]
    public async Task Stdio_memory_and_filesystem_list_their_tools_and_call_one()
    {
        var scratch = Directory.CreateTempSubdirectory("mcp-stdio-").FullName;
        try
        {
            using var connector = new McpConnector(NullLoggerFactory.Instance, TimeProvider.System);
            var memory = Stdio("memory", McpFixtures.Memory, env: new Dictionary<string, string> { ["MEMORY_FILE_PATH"] = Path.Combine(scratch, "memory.jsonl") });
            await using (var client = await connector.ConnectAsync(memory, new McpClientOptions(), Anonymous, CancellationToken.None))
            {
                Assert.Equal(9, (await client.ListToolsAsync()).Count);
                await client.CallToolAsync("create_entities", new Dictionary<string, object?>
                {
                    ["entities"] = new[] { new { name = "switchyard", entityType = "gateway", observations = new[] { "speaks MCP" } } },
                });
                var graph = await client.CallToolAsync("read_graph", new Dictionary<string, object?>());
                Assert.Contains("speaks MCP", Text(graph), StringComparison.Ordinal);
                Assert.Single(connector.Snapshot()["memory"].Processes);
            }

            var root = Directory.CreateDirectory(Path.Combine(scratch, "fsroot")).FullName;
            File.WriteAllText(Path.Combine(root, "hello.txt"), "hello from the gateway test");
            var fs = Stdio("fs", McpFixtures.Filesystem, args: [root]);
            await using (var client = await connector.ConnectAsync(fs, new McpClientOptions(), Anonymous, CancellationToken.None))
            {
                Assert.Equal(14, (await client.ListToolsAsync()).Count);
                var read = await client.CallToolAsync("read_text_file", new Dictionary<string, object?> { ["path"] = Path.Combine(root, "hello.txt") });
                Assert.Contains("hello from the gateway test", Text(read), StringComparison.Ordinal);
            }
            Assert.Equal("stdio", connector.Snapshot()["fs"].Transport);
            Assert.NotNull(connector.RememberedProtocolVersion("fs"));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    [Fact]
    public async Task A_stdio_child_gets_only_path_home_lang_and_its_own_env()
    {
        const string leak = "SWITCHYARD_TEST_GATEWAY_ONLY";
        var gatewayEnv = new Dictionary<string, string>
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH")!,
            ["HOME"] = "/tmp/switchyard-home",
            ["LANG"] = "C.UTF-8",
            [leak] = "must-not-reach-the-child",
        };
        using var connector = new McpConnector(NullLoggerFactory.Instance, TimeProvider.System, gatewayEnvironment: n => gatewayEnv.GetValueOrDefault(n));
        var server = Stdio("everything", McpFixtures.Everything, args: ["stdio"], env: new Dictionary<string, string> { ["CONFIGURED_VAR"] = "configured" });
        await using var client = await connector.ConnectAsync(server, new McpClientOptions(), Anonymous, CancellationToken.None);
        var env = JsonDocument.Parse(Text(await client.CallToolAsync("get-env", new Dictionary<string, object?>()))).RootElement;
        Assert.Equal("configured", env.GetProperty("CONFIGURED_VAR").GetString());
        Assert.Equal("/tmp/switchyard-home", env.GetProperty("HOME").GetString());
        Assert.Equal("C.UTF-8", env.GetProperty("LANG").GetString());
        Assert.True(env.TryGetProperty("PATH", out _));
        Assert.False(env.TryGetProperty(leak, out _));
    }

    [Fact]
    public async Task A_killed_stdio_child_fails_its_call_then_restarts_after_the_backoff()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var connector = new McpConnector(NullLoggerFactory.Instance, time);
        var server = Stdio("everything", McpFixtures.Everything, args: ["stdio"]);
        var client = await connector.ConnectAsync(server, new McpClientOptions(), Anonymous, CancellationToken.None);
        try
        {
            var pid = Assert.Single(connector.Snapshot()["everything"].Processes);
            using var child = Process.GetProcessById(pid);
            Assert.Contains("node", child.ProcessName, StringComparison.Ordinal);

            var call = client.CallToolAsync("trigger-long-running-operation", new Dictionary<string, object?> { ["duration"] = 60, ["steps"] = 60 }).AsTask();
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            Assert.False(call.IsCompleted);
            child.Kill();
            var failure = await Record.ExceptionAsync(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.NotNull(failure);
            Assert.IsNotType<TimeoutException>(failure);

            // The connector sees the death (bounded wait for the completion callback), and backs off.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (connector.Snapshot()["everything"].Crashes == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            var health = connector.Snapshot()["everything"];
            Assert.Equal((1L, 1), (health.Crashes, health.ConsecutiveFailures));
            Assert.Empty(health.Processes);
            Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(1), health.RetryAt);
            Assert.Contains("exited unexpectedly", health.LastError, StringComparison.Ordinal);

            var early = await Assert.ThrowsAsync<McpUpstreamUnavailableException>(() => connector.ConnectAsync(server, new McpClientOptions(), Anonymous, CancellationToken.None));
            Assert.Contains("next try in 1 s", early.Message, StringComparison.Ordinal);
            Assert.Equal(TimeSpan.FromSeconds(1), early.RetryAfter);

            time.Advance(TimeSpan.FromSeconds(1));
            await client.DisposeAsync();
            client = await connector.ConnectAsync(server, new McpClientOptions(), Anonymous, CancellationToken.None);
            var echoed = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "back" });
            Assert.Contains("back", Text(echoed), StringComparison.Ordinal);
            health = connector.Snapshot()["everything"];
            Assert.Equal((1L, 2L), (health.Restarts, health.Connects));
            Assert.NotEqual(pid, Assert.Single(health.Processes));
        }
        finally
        {
            await client.DisposeAsync();
        }
        // A normal close is not a failure: the streak ends.
        var deadline2 = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (connector.Snapshot()["everything"].Processes.Count > 0 && DateTime.UtcNow < deadline2)
        {
            await Task.Delay(50);
        }
        Assert.Equal(0, connector.Snapshot()["everything"].ConsecutiveFailures);
    }

    [Fact]
    public async Task A_stdio_command_that_cannot_start_backs_off_and_doubles()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var connector = new McpConnector(NullLoggerFactory.Instance, time);
        var server = Stdio("broken", McpFixtures.Everything) with { Command = "/nonexistent/switchyard/no-such-binary" };
        var first = await Assert.ThrowsAsync<McpUpstreamUnavailableException>(() => connector.ConnectAsync(server, new McpClientOptions(), Anonymous, CancellationToken.None));
        Assert.StartsWith("Upstream MCP server 'broken' could not be connected", first.Message, StringComparison.Ordinal);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(1), connector.Snapshot()["broken"].RetryAt);
        time.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<McpUpstreamUnavailableException>(() => connector.ConnectAsync(server, new McpClientOptions(), Anonymous, CancellationToken.None));
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(2), connector.Snapshot()["broken"].RetryAt);
        Assert.Equal(2, connector.Snapshot()["broken"].ConsecutiveFailures);
    }

    [Fact]
    public void The_backoff_doubles_up_to_thirty_seconds()
    {
        Assert.Equal([1, 2, 4, 8, 16, 30, 30, 30], Enumerable.Range(1, 8).Select(n => (int)McpConnector.Backoff(n).TotalSeconds));
        Assert.Equal(TimeSpan.Zero, McpConnector.Backoff(0));
    }
}
