using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;
using Switchyard.Core.Pipeline;

namespace Switchyard.Gateway.Mcp.Sessions;

/// <summary>
/// Session state that must outlive one process or one connection: the SSE event store behind <c>Last-Event-ID</c> replay
/// (the SDK's <see cref="ISseEventStreamStore"/>) and the session-migration records that let any replica continue a legacy
/// session (the SDK's <see cref="ISessionMigrationHandler"/>). The SDK resolves both from DI.
/// </summary>
public static class McpSessionServices
{
    /// <summary>
    /// Registers <see cref="McpEventStreamStore"/> as the <see cref="ISseEventStreamStore"/> (not when <c>MCP_EVENT_BUFFER=0</c>, which turns
    /// replay off), an <see cref="IMcpSessionRecordStore"/> (Redis when the engine has a Redis connection, else memory) and
    /// <see cref="McpSessionMigrationHandler"/> as the <see cref="ISessionMigrationHandler"/>.
    /// </summary>
    public static IServiceCollection AddMcpSessions(this IServiceCollection services, McpOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
#pragma warning disable MCP9006 // Legacy-era resumability is what this store is for.
        if (options.EventBuffer > 0)
        {
            services.AddSingleton<ISseEventStreamStore>(sp =>
                new McpEventStreamStore(options.EventBuffer, options.SessionIdleTimeout, sp.GetService<TimeProvider>()));
        }
#pragma warning restore MCP9006
        services.AddSingleton<IMcpSessionRecordStore>(sp =>
            sp.GetService<SwitchyardEngine>()?.Redis is { } redis
                ? new RedisMcpSessionRecordStore(redis, options.SessionIdleTimeout, sp.GetRequiredService<ILogger<RedisMcpSessionRecordStore>>())
                : new MemoryMcpSessionRecordStore(options.SessionIdleTimeout, options.MaxIdleSessions, sp.GetService<TimeProvider>()));
        services.AddSingleton<McpSessionMigrationHandler>();
        services.AddSingleton<ISessionMigrationHandler>(sp => sp.GetRequiredService<McpSessionMigrationHandler>());
        return services;
    }
}
