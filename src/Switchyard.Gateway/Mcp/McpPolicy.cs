using ModelContextProtocol.Protocol;

namespace Switchyard.Gateway.Mcp;

/// <summary>The outcome of admitting one tool call.</summary>
public readonly record struct McpAdmission
{
    public bool Allowed { get; init; }

    /// <summary>HTTP status for a refusal answered before the call is dispatched (403, 429); 200 puts only a JSON-RPC error in the body.</summary>
    public int HttpStatus { get; init; }

    /// <summary>The JSON-RPC error code of a refusal (-32602 for a tool that is not allowed, as Portkey answers).</summary>
    public int ErrorCode { get; init; }

    public string? Message { get; init; }

    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Released when the call ends (concurrency caps); null when nothing is held.</summary>
    public IDisposable? Lease { get; init; }

    public static McpAdmission Allow { get; } = new() { Allowed = true, HttpStatus = 200 };
}

/// <summary>
/// Tool policy: which tools a caller sees and may call (server allow/block lists, key rules), tool-definition pinning,
/// and rate limits. The proxy filters <c>tools/list</c> with it and checks every <c>tools/call</c>.
/// </summary>
public interface IMcpPolicy
{
    /// <summary>Whether <paramref name="caller"/> may see and call <paramref name="tool"/> (the upstream's own name) of <paramref name="server"/>.</summary>
    bool AllowsTool(McpCaller caller, McpUpstreamServer server, string tool);

    /// <summary>
    /// Reviews the tool definitions an upstream listed (pinning): returns the tools to serve, which leaves out a tool whose
    /// definition changed on a server pinned with <see cref="McpPinMode.Block"/>; records and reports changes either way.
    /// </summary>
    IReadOnlyList<Tool> ReviewDefinitions(McpUpstreamServer server, IReadOnlyList<Tool> tools);

    /// <summary>Whether a call to a tool whose definition changed is refused (pinning in block mode); the message says why.</summary>
    bool IsBlockedByPin(McpUpstreamServer server, string tool, out string message);

    /// <summary>Admits one <c>tools/call</c>: allow/deny and rate limits. Dispose <see cref="McpAdmission.Lease"/> when the call ends.</summary>
    ValueTask<McpAdmission> AdmitCallAsync(McpCaller caller, McpRoute route, McpUpstreamServer server, string tool, CancellationToken ct);
}

/// <summary>Allows everything the server's own allow/block lists allow; no pinning, no limits.</summary>
public sealed class ServerListsOnlyPolicy : IMcpPolicy
{
    public bool AllowsTool(McpCaller caller, McpUpstreamServer server, string tool) => server.Tools.Permits(tool);

    public IReadOnlyList<Tool> ReviewDefinitions(McpUpstreamServer server, IReadOnlyList<Tool> tools) => tools;

    public bool IsBlockedByPin(McpUpstreamServer server, string tool, out string message)
    {
        message = "";
        return false;
    }

    public ValueTask<McpAdmission> AdmitCallAsync(McpCaller caller, McpRoute route, McpUpstreamServer server, string tool, CancellationToken ct) =>
        ValueTask.FromResult(server.Tools.Permits(tool)
            ? McpAdmission.Allow
            : new McpAdmission { HttpStatus = 200, ErrorCode = -32602, Message = $"Tool '{tool}' is not allowed on server '{server.Id}'" });
}
