using System.Collections.Concurrent;
using ModelContextProtocol.Protocol;

// Sampling, roots and logging are deprecated in 2026-07-28 but are what 2025-11-25 peers speak; the gateway relays them on purpose.
#pragma warning disable MCP9005

namespace Switchyard.Gateway.Mcp.Proxy;

/// <summary>
/// Upstream connections for stateless 2026-07-28 downstream requests, which have no session to hang an upstream session on.
/// Pooled per (caller id, route, upstream, client-capability fingerprint), so they are never shared between callers; each
/// connection is leased to one request at a time (so relayed progress and input requests cannot cross requests), returned
/// afterwards, and closed after <see cref="McpOptions.SessionIdleTimeout"/> (<c>MCP_SESSION_IDLE_SECONDS</c>) unused.
/// </summary>
public sealed class McpUpstreamPool : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ConcurrentStack<(McpUpstreamLink Link, DateTimeOffset IdleSince)>> _idle = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ServerCapabilities> _capabilities = new(StringComparer.Ordinal);
    // The server definition each cached capability set came from: a reload (new definition) asks the upstream again.
    private readonly ConcurrentDictionary<string, McpUpstreamServer> _capabilitiesOf = new(StringComparer.Ordinal);
    private readonly IMcpUpstreamConnector _connector;
    private readonly TimeProvider _time;
    private readonly TimeSpan _idleTimeout;
    private readonly ILogger<McpUpstreamPool> _logger;
    private readonly ITimer _sweep;
    private int _open;

    public McpUpstreamPool(IServiceProvider services, McpOptions options, ILogger<McpUpstreamPool> logger)
    {
        _connector = services.GetService<IMcpUpstreamConnector>() ?? new MissingConnector();
        _time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        _idleTimeout = options.SessionIdleTimeout;
        _logger = logger;
        var period = TimeSpan.FromSeconds(Math.Clamp(_idleTimeout.TotalSeconds / 4, 1, 60));
        _sweep = _time.CreateTimer(_ => _ = SweepAsync(), null, period, period);
    }

    /// <summary>Open pooled upstream connections (leased or idle).</summary>
    public int OpenConnections => Volatile.Read(ref _open);

    internal IMcpUpstreamConnector Connector => _connector;

    internal static string Fingerprint(ClientCapabilities? caps) =>
        (caps?.Sampling is null ? "-" : "s") + (caps?.Elicitation is null ? "-" : "e") + (caps?.Roots is null ? "-" : "r");

    private static string Key(McpCaller caller, McpRoute route, McpUpstreamServer server, ClientCapabilities? caps) =>
        caller.Id + "\n" + route.Path + "\n" + server.Id + "\n" + Fingerprint(caps);

    internal async Task<McpUpstreamLink> RentAsync(McpCaller caller, McpRoute route, McpUpstreamServer server, ClientCapabilities? caps, ILogger logger, CancellationToken ct)
    {
        var key = Key(caller, route, server, caps);
        if (_idle.TryGetValue(key, out var stack))
        {
            while (stack.TryPop(out var entry))
            {
                if (entry.Link.IsAlive && entry.Link.SameEndpoint(server))
                {
                    return entry.Link;
                }
                await CloseAsync(entry.Link);
            }
        }
        var link = await McpUpstreamLink.ConnectAsync(_connector, server, route, caller, caps, logger, ct);
        Interlocked.Increment(ref _open);
        _capabilities[route.Path + "\n" + server.Id] = link.Client.ServerCapabilities;
        _capabilitiesOf[route.Path + "\n" + server.Id] = server;
        return link;
    }

    internal async ValueTask ReturnAsync(McpCaller caller, McpRoute route, McpUpstreamServer server, ClientCapabilities? caps, McpUpstreamLink link)
    {
        if (!link.IsAlive)
        {
            await CloseAsync(link);
            return;
        }
        _idle.GetOrAdd(Key(caller, route, server, caps), _ => new()).Push((link, _time.GetUtcNow()));
    }

    /// <summary>The upstream's capabilities as last seen (connecting once to learn them).</summary>
    internal async Task<ServerCapabilities> CapabilitiesAsync(McpCaller caller, McpRoute route, McpUpstreamServer server, ClientCapabilities? caps, ILogger logger, CancellationToken ct)
    {
        if (_capabilities.TryGetValue(route.Path + "\n" + server.Id, out var known) && _capabilitiesOf.TryGetValue(route.Path + "\n" + server.Id, out var of) && ReferenceEquals(of, server))
        {
            return known;
        }
        var link = await RentAsync(caller, route, server, caps, logger, ct);
        await ReturnAsync(caller, route, server, caps, link);
        return link.Client.ServerCapabilities;
    }

    private async Task CloseAsync(McpUpstreamLink link)
    {
        Interlocked.Decrement(ref _open);
        await link.DisposeAsync();
    }

    private async Task SweepAsync()
    {
        var cutoff = _time.GetUtcNow() - _idleTimeout;
        foreach (var (key, stack) in _idle)
        {
            var keep = new List<(McpUpstreamLink, DateTimeOffset)>();
            while (stack.TryPop(out var entry))
            {
                if (entry.IdleSince < cutoff || !entry.Link.IsAlive)
                {
                    _logger.LogDebug("Closing idle pooled upstream MCP connection to {Server}", entry.Link.Server.Id);
                    await CloseAsync(entry.Link);
                }
                else
                {
                    keep.Add(entry);
                }
            }
            keep.Reverse();
            foreach (var entry in keep)
            {
                stack.Push(entry);
            }
            if (stack.IsEmpty)
            {
                _idle.TryRemove(new KeyValuePair<string, ConcurrentStack<(McpUpstreamLink, DateTimeOffset)>>(key, stack));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _sweep.DisposeAsync();
        foreach (var stack in _idle.Values)
        {
            while (stack.TryPop(out var entry))
            {
                await CloseAsync(entry.Link);
            }
        }
    }

    private sealed class MissingConnector : IMcpUpstreamConnector
    {
        public Task<ModelContextProtocol.Client.McpClient> ConnectAsync(McpUpstreamServer server, ModelContextProtocol.Client.McpClientOptions options, McpUpstreamContext context, CancellationToken ct) =>
            throw new InvalidOperationException("No IMcpUpstreamConnector is registered");
    }
}
