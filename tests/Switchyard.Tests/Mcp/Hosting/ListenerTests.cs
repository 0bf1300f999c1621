using System.Net;
using System.Text.Json;
using Switchyard.Gateway.Mcp;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Mcp.Hosting;

/// <summary>Which listener serves what in each mode: MCP on its own port or on the main port, AI routes only where they belong, health on both.</summary>
public sealed class ListenerTests
{
    [Fact]
    public async Task All_mode_serves_mcp_on_its_own_port_and_keeps_each_surface_on_its_port()
    {
        await using var gw = await McpHostingGateway.StartAsync(ServerMode.All);
        Assert.True(gw.McpPort > 0);
        Assert.NotEqual(gw.Gateway.BaseUrl.Port, gw.McpPort);

        // The AI routes are not on the MCP listener; the MCP endpoints and their metadata are not on the main port.
        foreach (var path in new[] { "/v1/models", "/v1/logs/abc", "/", "/v1/chat/completions" })
        {
            var onMcp = await gw.Mcp.GetAsync(path);
            Assert.True(HttpStatusCode.NotFound == onMcp.StatusCode, $"{path} on the MCP port: {(int)onMcp.StatusCode}");
        }
        Assert.Equal(HttpStatusCode.NotFound, (await gw.Main.SendAsync(McpHostingGateway.Initialize("/everything/mcp"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gw.Main.GetAsync("/.well-known/oauth-protected-resource/everything/mcp")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gw.Main.GetAsync("/.well-known/oauth-protected-resource")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.Mcp.GetAsync("/.well-known/oauth-protected-resource/everything/mcp")).StatusCode);
        // The main port still serves the AI gateway.
        Assert.Equal(HttpStatusCode.OK, (await gw.Main.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task All_mode_with_mcp_port_equal_to_port_serves_everything_on_the_main_port()
    {
        await using var gw = await McpHostingGateway.StartAsync(ServerMode.All, onMainPort: true);
        Assert.Equal(-1, gw.McpPort);
        Assert.Equal(gw.Gateway.BaseUrl, gw.McpUrl);
        Assert.Equal(HttpStatusCode.OK, (await gw.Main.GetAsync("/.well-known/oauth-protected-resource/everything/mcp")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.Main.GetAsync("/")).StatusCode);
        var health = await (await gw.Main.GetAsync("/v1/health")).JsonAsync();
        var mcp = health.GetProperty("mcp");
        Assert.Equal("all", mcp.GetProperty("mode").GetString());
        Assert.True(mcp.GetProperty("on_main_port").GetBoolean());
        Assert.Equal(gw.Gateway.BaseUrl.Port, mcp.GetProperty("port").GetInt32());
        // The guard runs on the main port too: a foreign Host is refused on an MCP path.
        Assert.Equal(HttpStatusCode.Forbidden, (await gw.Main.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Host", "evil.example.com")))).StatusCode);
    }

    [Fact]
    public async Task Mcp_mode_serves_no_ai_route_at_all()
    {
        await using var gw = await McpHostingGateway.StartAsync(ServerMode.Mcp);
        Assert.True(gw.McpPort > 0);
        // The only listener is MCP_PORT.
        Assert.Equal(gw.McpPort, gw.Gateway.BaseUrl.Port);
        foreach (var path in new[] { "/v1/models", "/", "/v1/logs/abc" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await gw.Mcp.GetAsync(path)).StatusCode);
        }
        var chat = await gw.Mcp.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-provider", "openai")));
        Assert.Equal(HttpStatusCode.NotFound, chat.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.Mcp.GetAsync("/.well-known/oauth-protected-resource")).StatusCode);
        var health = await (await gw.Mcp.GetAsync("/v1/health")).JsonAsync();
        Assert.Equal("mcp", health.GetProperty("mcp").GetProperty("mode").GetString());
        Assert.Equal(gw.McpPort, health.GetProperty("mcp").GetProperty("port").GetInt32());
    }

    [Theory]
    [InlineData(ServerMode.All)]
    [InlineData(ServerMode.Mcp)]
    public async Task Health_answers_on_both_ports_with_the_mcp_registry(ServerMode mode)
    {
        await using var gw = await McpHostingGateway.StartAsync(mode);
        var clients = mode == ServerMode.All ? new[] { gw.Main, gw.Mcp } : [gw.Mcp];
        foreach (var client in clients)
        {
            foreach (var path in new[] { "/health", "/v1/health" })
            {
                var response = await client.GetAsync(path);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var body = await response.JsonAsync();
                Assert.Equal("success", body.GetProperty("status").GetString());
                var mcp = body.GetProperty("mcp");
                Assert.Equal(mode == ServerMode.Mcp ? "mcp" : "all", mcp.GetProperty("mode").GetString());
                Assert.Equal(gw.McpPort, mcp.GetProperty("port").GetInt32());
                Assert.False(mcp.GetProperty("on_main_port").GetBoolean());
                var status = gw.Gateway.App.Services.GetRequiredService<IMcpRegistrySource>().Status;
                Assert.Equal(status.State, mcp.GetProperty("state").GetString());
                Assert.Equal(status.Path, mcp.GetProperty("path").GetString());
                Assert.Equal(status.Servers, mcp.GetProperty("servers").GetInt32());
                Assert.Equal(status.VirtualServers, mcp.GetProperty("virtual_servers").GetInt32());
                Assert.Equal(status.Generation, mcp.GetProperty("generation").GetInt64());
                Assert.Equal(JsonValueKind.Array, mcp.GetProperty("problems").ValueKind);
                Assert.Equal(JsonValueKind.Array, mcp.GetProperty("warnings").ValueKind);
            }
            foreach (var path in new[] { "/health/ready", "/v1/health/ready" })
            {
                var ready = await client.GetAsync(path);
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
                Assert.Equal("ready", (await ready.JsonAsync()).GetProperty("status").GetString());
            }
        }
    }

    [Fact]
    public async Task A_degraded_registry_shows_in_health()
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-configs-").FullName;
        var options = new ServerOptions
        {
            Port = 0, McpPort = 0, BindAddress = "127.0.0.1", Mode = ServerMode.Mcp, LogLevel = LogLevel.Warning,
            Engine = TestGateway.FastSettings(dir), Environment = _ => null,
        };
        await using var app = GatewayApp.Build(options, configureServices: services => services.AddSingleton<IMcpRegistrySource>(new DegradedRegistry()));
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{GatewayApp.BoundMcpPort(app)}") };
            var mcp = (await (await http.GetAsync("/v1/health")).JsonAsync()).GetProperty("mcp");
            Assert.Equal("degraded", mcp.GetProperty("state").GetString());
            Assert.Equal("/app/mcp-servers", mcp.GetProperty("path").GetString());
            Assert.Equal("servers.yaml: $.servers.broken.url: not an absolute URL", Assert.Single(mcp.GetProperty("problems").EnumerateArray()).GetString());
            Assert.Equal(2, mcp.GetProperty("servers").GetInt32());
            Assert.Equal(3, mcp.GetProperty("generation").GetInt64());
        }
        finally
        {
            await app.StopAsync();
            Directory.Delete(dir, recursive: true);
        }
        // The AI gateway alone has no mcp object.
        await using var plain = await TestGateway.StartAsync();
        Assert.False((await (await plain.Client.GetAsync("/v1/health")).JsonAsync()).TryGetProperty("mcp", out _));
    }

    private sealed class DegradedRegistry : IMcpRegistrySource
    {
        public McpRegistry Current => McpRegistry.Empty;

        public McpRegistryStatus Status => new()
        {
            State = "degraded",
            Path = "/app/mcp-servers",
            Servers = 2,
            Generation = 3,
            LoadedAt = DateTimeOffset.UnixEpoch,
            Problems = ["servers.yaml: $.servers.broken.url: not an absolute URL"],
        };

        public event Action<McpRegistry>? Changed { add { } remove { } }
    }
}
