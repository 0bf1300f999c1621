using System.Net;
using Xunit;

namespace Switchyard.Tests.Mcp.Clients;

/// <summary>The harness itself: <see cref="McpGatewayHost"/> builds a gateway from a complete environment and cleans up after it.</summary>
public sealed class McpGatewayHostTests
{
    [Fact]
    public async Task StartAsync_BuildsTheGatewayFromItsEnvironment_AndRemovesItsDirectoryOnDispose()
    {
        // SERVER_MODE overridden to the AI gateway: the rest of the host's environment (ports, paths, keys) must be accepted as is.
        var host = await McpGatewayHost.StartAsync(
            McpGatewayHost.HttpServer("everything", new Uri("http://127.0.0.1:9/mcp")),
            apiKey: "sk-harness-check-0001",
            environment: new Dictionary<string, string> { ["SERVER_MODE"] = "" });
        var directory = host.Directory;
        try
        {
            Assert.True(File.Exists(host.ServersFile));
            Assert.Contains("\"url\":\"http://127.0.0.1:9/mcp\"", await File.ReadAllTextAsync(host.ServersFile), StringComparison.Ordinal);
            Assert.Equal(new Uri($"http://127.0.0.1:{host.McpPort}/everything/mcp"), host.Endpoint("everything"));
            Assert.NotEqual(host.McpPort, host.MainUrl.Port);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            using var health = await http.GetAsync(new Uri(host.MainUrl, "/v1/health"));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
        finally
        {
            await host.DisposeAsync();
        }
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public void FreeLoopbackPort_IsAUsablePort()
    {
        var port = McpGatewayHost.FreeLoopbackPort();
        Assert.InRange(port, 1, 65535);
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, port);
        listener.Start();
        listener.Stop();
    }
}
