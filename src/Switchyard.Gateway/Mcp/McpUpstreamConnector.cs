using ModelContextProtocol.Client;

namespace Switchyard.Gateway.Mcp;

/// <summary>What the proxy knows about the downstream request that makes it open an upstream connection.</summary>
public sealed record McpUpstreamContext
{
    public required McpCaller Caller { get; init; }

    /// <summary>Client headers the server's <c>forward_headers</c> lets through (the protected set already removed).</summary>
    public IReadOnlyDictionary<string, string> ForwardedHeaders { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Opens MCP client connections to upstream servers: the transport (Streamable HTTP in either era, HTTP+SSE, stdio), the era
/// detected once per server and remembered, static and OAuth credentials injected, the SSRF rules applied, stdio children
/// started and supervised. The proxy owns the returned client and disposes it (which ends the upstream session).
/// </summary>
public interface IMcpUpstreamConnector
{
    /// <param name="options">The proxy's client options: capabilities mirroring the downstream client's, and the handlers that relay
    /// sampling, elicitation, roots and notifications back downstream. The connector may set <see cref="McpClientOptions.ProtocolVersion"/>.</param>
    Task<McpClient> ConnectAsync(McpUpstreamServer server, McpClientOptions options, McpUpstreamContext context, CancellationToken ct);
}
