using Switchyard.Core.Caching;
using Switchyard.Core.Configs;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;
using Switchyard.Core.Routing;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Pipeline;

/// <summary>One leaf target being tried for one request: what the leaf steps read and write.</summary>
public sealed class LeafExchange
{
    public required RequestContext Context { get; init; }

    public required GatewayRequest Request { get; init; }

    public required ConfigNode Leaf { get; init; }

    public required RoutePlan Plan { get; init; }

    public required ResolvedTarget Target { get; init; }

    public required IProviderAdapter Adapter { get; init; }

    /// <summary>The body sent upstream in the client's protocol: after <c>override_params</c>, dropped parameters and input mutators.</summary>
    public ReadOnlyMemory<byte> Body { get; set; }

    /// <summary>This leaf's cache decision; <see cref="CacheLookup.Disabled"/> without a cache block.</summary>
    public CacheLookup Cache { get; set; } = CacheLookup.Disabled;

    /// <summary>How the provider is called (native or translated); planned once, reused by every retry.</summary>
    public LeafCall? Call { get; set; }

    /// <summary>0 for the first attempt, n for the n-th retry.</summary>
    public int Attempt { get; set; }

    /// <summary>The answer so far. A step that sets it before the send step ends the leaf there (a cache hit, a guardrail denial).</summary>
    public RouteOutcome? Outcome { get; set; }

    /// <summary>Guardrail state of this leaf (hook context and results), when the leaf has hooks.</summary>
    public object? Guardrails { get; set; }

    internal RouteOutcome Finish(RouteOutcome outcome)
    {
        outcome.LastUsedOptionIndex = Leaf.OptionPath;
        outcome.Provider ??= Target.Provider.Slug;
        outcome.CacheStatus = Cache.Status;
        return Outcome = outcome;
    }
}
