using ModelContextProtocol.Protocol;

namespace Switchyard.Gateway.Mcp.Policy;

/// <summary>
/// The MCP tool policy: a server's <c>tools.allowed</c>/<c>tools.blocked</c> lists, tool-definition pinning
/// (<see cref="McpToolPins"/>, per the server's <c>pinning</c> mode) and the servers' <c>rate_limits</c> (<see cref="McpRateLimiter"/>).
/// </summary>
public sealed class McpPolicy(McpToolPins pins, McpRateLimiter limits) : IMcpPolicy
{
    /// <summary>The JSON-RPC error code of a refused tool (not allowed, or blocked by its pin), as Portkey answers.</summary>
    public const int NotAllowedCode = -32602;

    public McpToolPins Pins => pins;

    public McpRateLimiter Limits => limits;

    /// <summary>The server's <c>tools.allowed</c>/<c>tools.blocked</c> lists, then the caller's key's <c>mcp_servers</c> and <c>mcp_tools</c> (when it has them).</summary>
    public bool AllowsTool(McpCaller caller, McpUpstreamServer server, string tool) =>
        server.Tools.Permits(tool) && (caller.Key is not { } key || key.PermitsMcpTool(server.Id, tool));

    public IReadOnlyList<Tool> ReviewDefinitions(McpUpstreamServer server, IReadOnlyList<Tool> tools)
    {
        if (server.Pinning == McpPinMode.Off)
        {
            return tools;
        }
        var verdicts = pins.ObserveAll(server, tools);
        List<Tool>? kept = null;
        for (var i = 0; i < tools.Count; i++)
        {
            var changed = verdicts[i] == McpPinVerdict.Changed;
            if (changed && server.Pinning == McpPinMode.Block)
            {
                kept ??= [.. tools.Take(i)];
            }
            else
            {
                kept?.Add(tools[i]);
            }
        }
        return kept ?? tools;
    }

    public bool IsBlockedByPin(McpUpstreamServer server, string tool, out string message)
    {
        if (server.Pinning == McpPinMode.Block && pins.Get(server.Id, tool) is { Changed: true } pin)
        {
            message = $"Tool '{tool}' of server '{server.Id}' is blocked: its definition changed ({string.Join(", ", pin.ChangedFields)}) since it was pinned. "
                      + $"An administrator can accept the new definition with POST /v1/admin/mcp/pins/{Uri.EscapeDataString(server.Id)}/{Uri.EscapeDataString(tool)}/accept";
            return true;
        }
        message = "";
        return false;
    }

    public async ValueTask<McpAdmission> AdmitCallAsync(McpCaller caller, McpRoute route, McpUpstreamServer server, string tool, CancellationToken ct)
    {
        if (!AllowsTool(caller, server, tool))
        {
            return new McpAdmission { HttpStatus = StatusCodes.Status200OK, ErrorCode = NotAllowedCode, Message = $"Tool '{tool}' is not allowed" };
        }
        if (IsBlockedByPin(server, tool, out var blocked))
        {
            return new McpAdmission { HttpStatus = StatusCodes.Status200OK, ErrorCode = NotAllowedCode, Message = blocked };
        }
        return await limits.AdmitAsync(caller, server, tool, ct).ConfigureAwait(false) ?? McpAdmission.Allow;
    }
}
