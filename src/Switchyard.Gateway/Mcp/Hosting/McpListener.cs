using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Switchyard.Gateway.Mcp.Hosting;

/// <summary>
/// The separate <c>MCP_PORT</c> listener, when there is one (<c>SERVER_MODE=mcp</c>, or <c>all</c> with <c>MCP_PORT</c> unlike
/// <c>PORT</c>): tells a request that came in on it from one on the main port. The port is read from Kestrel's listen options
/// after binding, so <c>MCP_PORT=0</c> works too.
/// </summary>
public sealed class McpListener
{
    private ListenOptions? _listen;

    /// <summary>Whether a separate MCP listener was configured.</summary>
    public bool IsConfigured => _listen is not null;

    /// <summary>The bound port; -1 before binding or without a separate MCP listener.</summary>
    public int Port => _listen?.IPEndPoint?.Port ?? -1;

    /// <summary>Kestrel's callback for the MCP listen address.</summary>
    public void Attach(ListenOptions listen) => _listen = listen;

    /// <summary>Whether the request arrived on the MCP listener.</summary>
    public bool Owns(HttpContext context) => _listen is not null && context.Connection.LocalPort == Port;
}
