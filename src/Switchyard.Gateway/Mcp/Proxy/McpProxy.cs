using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// Sampling, roots and logging are deprecated in 2026-07-28 but are what 2025-11-25 peers speak; the gateway relays them on purpose.
#pragma warning disable MCP9005

namespace Switchyard.Gateway.Mcp.Proxy;

/// <summary>
/// The proxy core: plugged into the SDK's HTTP transport through <see cref="ConfigureSessionAsync"/> (the SDK calls it when
/// it creates a legacy session, and for every stateless 2026-07-28 request) and <see cref="RunSessionAsync"/> (runs the
/// session and closes its upstream connections when it ends). Holds the shared state: the stateless upstream pool, the
/// MRTR calls waiting for input, the session bindings, and counters.
/// </summary>
public sealed class McpProxy
{
    private const string SessionItemKey = "switchyard.mcp.proxy-session";
    private long _collisions;
    private long _unavailable;

    public McpProxy(IServiceProvider services, McpOptions options, McpSessionBindings bindings, McpUpstreamPool pool, McpPendingCalls pending, ILogger<McpProxy> logger)
    {
        Services = services;
        Options = options;
        Bindings = bindings;
        Pool = pool;
        Pending = pending;
        Logger = logger;
        Time = services.GetService<TimeProvider>() ?? TimeProvider.System;
    }

    internal IServiceProvider Services { get; }

    public McpOptions Options { get; }

    public McpSessionBindings Bindings { get; }

    public McpUpstreamPool Pool { get; }

    public McpPendingCalls Pending { get; }

    internal ILogger Logger { get; }

    internal TimeProvider Time { get; }

    // Resolved on first use: the registrations of the other areas (and tests' overrides) are all in place by then.
    internal IMcpUpstreamConnector Connector => field ??= Services.GetService<IMcpUpstreamConnector>() ?? Pool.Connector;

    internal IMcpPolicy Policy => field ??= Services.GetService<IMcpPolicy>() ?? new ServerListsOnlyPolicy();

    internal IMcpCallObserver[] Observers => field ??= [.. Services.GetServices<IMcpCallObserver>()];

    /// <summary>Tool, prompt and resource names dropped because a later member of a virtual server exposed the same name.</summary>
    public long NameCollisions => Interlocked.Read(ref _collisions);

    /// <summary>Times an upstream was left out of a list or a session start because it failed (fail-open).</summary>
    public long UpstreamsLeftOut => Interlocked.Read(ref _unavailable);

    internal void CountCollision() => Interlocked.Increment(ref _collisions);

    internal void CountUnavailable() => Interlocked.Increment(ref _unavailable);

    /// <summary>
    /// <see cref="HttpServerTransportOptions.ConfigureSessionOptions"/>: reads the downstream client's capabilities from the request
    /// body (the route step buffered it): <c>params.capabilities</c> of <c>initialize</c>, or the per-request
    /// <c>_meta["io.modelcontextprotocol/clientCapabilities"]</c> of a 2026-07-28 request. Then connects the upstream(s) with the same
    /// capabilities and advertises their union.
    /// </summary>
    public async Task ConfigureSessionAsync(HttpContext context, McpServerOptions options, CancellationToken ct)
    {
        var route = McpRouteResolution.Of(context) ?? throw new InvalidOperationException("The MCP route step did not run for this request");
        var caller = McpCaller.Of(context);
        var (capabilities, bodyVersion) = await ReadClientAsync(context, ct);
        // A session migrated from another replica (Sessions area) arrives with its initialize parameters already known.
        capabilities = options.KnownClientCapabilities ?? capabilities;
        var sessionId = context.Response.Headers[McpSessionBindings.HeaderName].ToString();
        var stateless = sessionId.Length == 0;
        var version = context.Request.Headers["Mcp-Protocol-Version"].ToString();
        var session = new McpProxySession(this, route, caller, capabilities, stateless, stateless ? null : sessionId, version.Length > 0 ? version : bodyVersion);
        await session.ConfigureAsync(options, ct);
        context.Items[SessionItemKey] = session;
        if (!stateless)
        {
            Bindings.Add(sessionId, route.Path, caller.Id);
        }
    }

    /// <summary><see cref="HttpServerTransportOptions.RunSessionHandler"/>: runs the session; when it ends (DELETE, idle expiry), closes its upstream sessions.</summary>
    public async Task RunSessionAsync(HttpContext context, McpServer server, CancellationToken ct)
    {
        var session = context.Items.TryGetValue(SessionItemKey, out var value) ? value as McpProxySession : null;
        if (session is { Stateless: false })
        {
            session.Attach(server);
        }
        try
        {
            await server.RunAsync(ct);
        }
        finally
        {
            if (session is not null)
            {
                if (session.SessionId is { } id)
                {
                    Bindings.Remove(id);
                }
                await session.DisposeAsync();
            }
        }
    }

    private static async Task<(ClientCapabilities? Capabilities, string? ProtocolVersion)> ReadClientAsync(HttpContext context, CancellationToken ct)
    {
        var body = context.Request.Body;
        if (!body.CanSeek)
        {
            return (null, null);
        }
        body.Position = 0;
        try
        {
            var root = await JsonNode.ParseAsync(body, cancellationToken: ct);
            var parameters = root?["params"];
            var node = parameters?["capabilities"] ?? parameters?["_meta"]?["io.modelcontextprotocol/clientCapabilities"];
            var caps = node?.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ClientCapabilities))) as ClientCapabilities;
            var version = (parameters?["protocolVersion"] ?? parameters?["_meta"]?["io.modelcontextprotocol/protocolVersion"]) as JsonValue;
            return (caps, version?.ToString());
        }
        catch (JsonException)
        {
            return (null, null);
        }
        finally
        {
            body.Position = 0;
        }
    }
}

/// <summary>Registers the proxy and the SDK's HTTP transport, and maps the MCP endpoints.</summary>
public static class McpProxyServices
{
    /// <summary>
    /// <c>AddMcpServer().WithHttpTransport(...)</c> in hybrid mode (<see cref="HttpServerSessionMode.StatefulForInitializeClients"/>:
    /// sessions for <c>initialize</c> clients, stateless 2026-07-28), idle expiry from <see cref="McpOptions"/>, and the proxy hooks.
    /// </summary>
    public static IServiceCollection AddMcpProxy(this IServiceCollection services, McpOptions options)
    {
        services.AddSingleton<McpSessionBindings>();
        services.AddSingleton<McpUpstreamPool>();
        services.AddSingleton<McpPendingCalls>();
        services.AddSingleton<McpProxy>();
        services.AddMcpServer().WithHttpTransport(o =>
        {
            o.SessionMode = HttpServerSessionMode.StatefulForInitializeClients;
#pragma warning disable MCP9006 // Session idle settings are marked obsolete with the legacy stateful era, which this gateway serves on purpose.
            o.IdleTimeout = options.SessionIdleTimeout;
            o.MaxIdleSessionCount = options.MaxIdleSessions;
#pragma warning restore MCP9006
            o.ConfigureSessionOptions = (context, serverOptions, ct) => context.RequestServices.GetRequiredService<McpProxy>().ConfigureSessionAsync(context, serverOptions, ct);
#pragma warning disable MCPEXP002 // RunSessionHandler is experimental; it is the SDK's hook for the end of a session.
            o.RunSessionHandler = (context, server, ct) => context.RequestServices.GetRequiredService<McpProxy>().RunSessionAsync(context, server, ct);
#pragma warning restore MCPEXP002
        });
        return services;
    }

    /// <summary>Maps the SDK's Streamable HTTP endpoints (POST, GET, DELETE) at <c>/{server}/mcp</c> and <c>/{workspace}/{server}/mcp</c>.</summary>
    public static IEndpointRouteBuilder MapMcpProxy(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMcp("/{server}/mcp");
        endpoints.MapMcp("/{workspace}/{server}/mcp");
        return endpoints;
    }
}
