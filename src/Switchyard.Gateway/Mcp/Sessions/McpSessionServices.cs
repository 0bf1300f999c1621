namespace Switchyard.Gateway.Mcp.Sessions;

/// <summary>
/// Session state that must outlive one process or one connection: the SSE event store behind <c>Last-Event-ID</c> replay
/// (the SDK's <c>ISseEventStreamStore</c>) and the session-migration records that let any replica continue a legacy session
/// (the SDK's <c>ISessionMigrationHandler</c>). The SDK resolves both from DI. Stub: registers nothing.
/// </summary>
public static class McpSessionServices
{
    public static IServiceCollection AddMcpSessions(this IServiceCollection services, McpOptions options) => services;
}
