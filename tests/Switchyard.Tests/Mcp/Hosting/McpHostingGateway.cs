using System.Net.Http.Headers;
using System.Text;
using Switchyard.Gateway.Mcp;
using Switchyard.Tests.Infrastructure;

namespace Switchyard.Tests.Mcp.Hosting;

/// <summary>The real gateway (<see cref="TestGateway"/>) in an MCP mode, with clients for the main port and the MCP port.</summary>
internal sealed class McpHostingGateway : IAsyncDisposable
{
    private McpHostingGateway(TestGateway gateway, int mcpPort)
    {
        Gateway = gateway;
        McpPort = mcpPort;
        var port = mcpPort > 0 ? mcpPort : gateway.BaseUrl.Port;
        McpUrl = new Uri($"http://127.0.0.1:{port}");
        Mcp = new HttpClient { BaseAddress = McpUrl, Timeout = TimeSpan.FromSeconds(30) };
    }

    public TestGateway Gateway { get; }

    /// <summary>The bound MCP_PORT; -1 when MCP is on the main port.</summary>
    public int McpPort { get; }

    public Uri McpUrl { get; }

    /// <summary>A client for the MCP listener (the main port when MCP shares it).</summary>
    public HttpClient Mcp { get; }

    /// <summary>A client for the main port.</summary>
    public HttpClient Main => Gateway.Client;

    public static async Task<McpHostingGateway> StartAsync(ServerMode mode, bool onMainPort = false, IReadOnlyDictionary<string, string>? environment = null,
        Func<ServerOptions, ServerOptions>? server = null)
    {
        var gateway = await TestGateway.StartAsync(environment: environment, server: o =>
        {
            o = o with { Mode = mode, McpPort = 0, McpOnMainPort = onMainPort };
            return server is null ? o : server(o);
        });
        return new McpHostingGateway(gateway, GatewayApp.BoundMcpPort(gateway.App));
    }

    /// <summary>An MCP <c>initialize</c> POST (2025-11-25) with the given headers.</summary>
    public static HttpRequestMessage Initialize(string path, params (string Name, string Value)[] headers)
    {
        const string body = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"hosting-test","version":"1.0.0"}}}""";
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        return TestGateway.With(request, headers);
    }

    public async ValueTask DisposeAsync()
    {
        Mcp.Dispose();
        await Gateway.DisposeAsync();
    }
}
