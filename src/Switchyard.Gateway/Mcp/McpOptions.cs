using Switchyard.Core;

namespace Switchyard.Gateway.Mcp;

/// <summary>The MCP gateway's settings (<c>MCP_*</c>); the listener itself is <c>SERVER_MODE</c>/<c>MCP_PORT</c> in <see cref="Hosting.ServerOptions"/>.</summary>
public sealed record McpOptions
{
    /// <summary>
    /// The upstream servers: a file, or a directory of <c>*.json</c>/<c>*.yaml</c> files, watched and reloaded like named configs
    /// (<c>MCP_SERVERS_PATH</c>, also read from Portkey's <c>SERVERS_CONFIG_PATH</c>; default <c>mcp-servers</c> under the working directory).
    /// </summary>
    public string ServersPath { get; init; } = "mcp-servers";

    /// <summary>
    /// Host header values the MCP endpoints accept (<c>MCP_ALLOWED_HOSTS</c>, comma-separated; <c>*</c> accepts any). Empty means the
    /// defaults: localhost, 127.0.0.1, [::1] and the host of <c>MCP_GATEWAY_BASE_URL</c>. Guards against DNS rebinding.
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>Origin header values accepted (<c>MCP_ALLOWED_ORIGINS</c>; <c>*</c> accepts any). A request without Origin is not browser traffic and passes.</summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    /// <summary>How long a legacy-era session may sit idle before it and its upstream sessions are closed (<c>MCP_SESSION_IDLE_SECONDS</c>, default 1800).</summary>
    public TimeSpan SessionIdleTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Most idle legacy sessions kept (<c>MCP_MAX_IDLE_SESSIONS</c>, default 10000); the oldest idle one closes first.</summary>
    public int MaxIdleSessions { get; init; } = 10_000;

    /// <summary>Server-sent events kept per session for <c>Last-Event-ID</c> replay (<c>MCP_EVENT_BUFFER</c>, default 1000 per stream).</summary>
    public int EventBuffer { get; init; } = 1000;

    /// <summary>Largest MCP request body accepted, in bytes (<c>MCP_MAX_BODY_BYTES</c>, default 4 MiB); larger gets 413.</summary>
    public int MaxBodyBytes { get; init; } = 4 * 1024 * 1024;

    public static McpOptions FromEnvironment(Func<string, string?> get)
    {
        var o = new McpOptions();
        var path = EnvironmentValues.NonEmpty(get("MCP_SERVERS_PATH")) ?? EnvironmentValues.NonEmpty(get("SERVERS_CONFIG_PATH")) ?? o.ServersPath;
        return o with
        {
            ServersPath = path,
            AllowedHosts = EnvironmentValues.CommaList(get, "MCP_ALLOWED_HOSTS"),
            AllowedOrigins = EnvironmentValues.CommaList(get, "MCP_ALLOWED_ORIGINS"),
            SessionIdleTimeout = TimeSpan.FromSeconds(EnvironmentValues.Int(get, "MCP_SESSION_IDLE_SECONDS", (int)o.SessionIdleTimeout.TotalSeconds, 10, 7 * 24 * 3600)),
            MaxIdleSessions = EnvironmentValues.Int(get, "MCP_MAX_IDLE_SESSIONS", o.MaxIdleSessions, 1, 10_000_000),
            EventBuffer = EnvironmentValues.Int(get, "MCP_EVENT_BUFFER", o.EventBuffer, 0, 1_000_000),
            MaxBodyBytes = EnvironmentValues.Int(get, "MCP_MAX_BODY_BYTES", o.MaxBodyBytes, 1024, 64 * 1024 * 1024),
        };
    }
}
