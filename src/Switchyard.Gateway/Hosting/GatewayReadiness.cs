using Switchyard.Core.Caching;
using Switchyard.Core.Pipeline;

namespace Switchyard.Gateway.Hosting;

/// <summary>
/// Whether this replica should receive traffic (Kubernetes readiness), as opposed to whether it lives (<c>/v1/health</c>):
/// not before the config directory has been read, not once shutdown has begun, and, when <c>READINESS_REQUIRES_CACHE</c>
/// asks for it, not while the cache store fails.
/// </summary>
internal sealed class GatewayReadiness(SwitchyardEngine engine, ServerOptions options)
{
    private volatile bool _draining;

    /// <summary>True from the stop signal on: readiness answers 503 while the listener still serves.</summary>
    public bool Draining => _draining;

    public void BeginDrain() => _draining = true;

    /// <summary>Why the replica is not ready; empty when it is.</summary>
    public async ValueTask<IReadOnlyList<string>> ReasonsAsync(CancellationToken ct)
    {
        List<string>? reasons = null;
        if (_draining)
        {
            (reasons ??= []).Add("shutting down");
        }
        var configs = engine.NamedConfigs;
        if (!configs.DirectoryRead)
        {
            (reasons ??= []).Add($"config directory {configs.Directory} not read yet: {configs.DirectoryProblem ?? "loading"}");
        }
        if (options.ReadinessRequiresCache && engine.Cache is { } cache && await CacheProblemAsync(cache, ct) is { } problem)
        {
            (reasons ??= []).Add($"cache store {engine.Settings.Cache.StoreName} is failing: {problem}");
        }
        return reasons ?? (IReadOnlyList<string>)[];
    }

    private async ValueTask<string?> CacheProblemAsync(ResponseCache cache, CancellationToken ct)
    {
        // The store's state is only as fresh as its last operation, and a replica that is not ready gets no requests to make
        // one: each check tries a read itself (bounded by CACHE_TIMEOUT_MS, counted like any other; one per probe period).
        try
        {
            await cache.Store.GetAsync(engine.Settings.Cache.KeyPrefix + "readiness-probe", ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The fail-safe store records the failure; its Problem below says what it was.
        }
        return Problem(cache);
    }

    // The fail-safe wrapper's failure, or the client's own (an unreachable server at start, before any request).
    private static string? Problem(ResponseCache cache) =>
        cache.Store.Problem ?? (cache.Store as FailSafeCacheStore)?.Inner.Problem;
}
