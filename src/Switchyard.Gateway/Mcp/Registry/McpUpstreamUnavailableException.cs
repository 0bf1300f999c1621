namespace Switchyard.Gateway.Mcp.Registry;

/// <summary>An upstream MCP server could not be reached or authenticated; the message names the server and never a secret.</summary>
public sealed class McpUpstreamUnavailableException(string serverId, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The server's id in the servers file.</summary>
    public string ServerId { get; } = serverId;

    /// <summary>When a stdio server is backing off after failures: how long until the next start is tried.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
