using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using Switchyard.Gateway.Mcp.Proxy;

namespace Switchyard.Gateway.Mcp.Sessions;

/// <summary>
/// The SDK's session-migration hook: at <c>initialize</c> it records the client's parameters with the caller and the route;
/// when a request brings a session id this replica does not hold, it hands the parameters back only to the same caller on
/// the same route (anything else gets null, which the SDK answers with 404, so the client starts a new session).
/// </summary>
public sealed class McpSessionMigrationHandler(IMcpSessionRecordStore store, ILogger<McpSessionMigrationHandler> logger) : ISessionMigrationHandler
{
    public IMcpSessionRecordStore Store => store;

    public ValueTask OnSessionInitializedAsync(HttpContext context, string sessionId, InitializeRequestParams initializeParams, CancellationToken cancellationToken) =>
        store.SaveAsync(sessionId, new McpSessionRecord(McpCaller.Of(context).Id, McpRouteResolution.Of(context)?.Path, initializeParams), cancellationToken);

    public async ValueTask<InitializeRequestParams?> AllowSessionMigrationAsync(HttpContext context, string sessionId, CancellationToken cancellationToken)
    {
        var record = await store.FindAsync(sessionId, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return null;
        }
        var caller = McpCaller.Of(context).Id;
        var route = McpRouteResolution.Of(context)?.Path;
        if (!string.Equals(record.CallerId, caller, StringComparison.Ordinal) || !string.Equals(record.RoutePath, route, StringComparison.Ordinal))
        {
            // Session ids are bound to their caller and route: another principal (or another route) never continues one.
            logger.LogWarning("MCP session {SessionId} refused: it belongs to another caller or route", sessionId);
            return null;
        }
        return record.Initialize;
    }
}
