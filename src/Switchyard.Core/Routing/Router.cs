using System.Text.Json;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Configs;
using Switchyard.Core.Errors;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;
using Switchyard.Core.Routing.Conditions;
using Switchyard.Core.Usage.Pricing;

namespace Switchyard.Core.Routing;

/// <summary>Walks a compiled config for one request: strategies at inner nodes, retries and per-attempt timeouts at leaves.</summary>
public sealed class Router
{
    private readonly ProviderRegistry _providers;
    private readonly LeafPipeline _leaves;
    private readonly Func<double> _random;
    private readonly ILogger _logger;
    private readonly PriceTable _prices;

    /// <param name="prices">Prices for the <c>request.estimated_cost</c> condition key; <see cref="PriceTable.Default"/> when null.</param>
    public Router(ProviderRegistry providers, LeafPipeline leaves, ILogger logger, Func<double>? random = null, PriceTable? prices = null)
    {
        _providers = providers;
        _leaves = leaves;
        _logger = logger;
        _random = random ?? Random.Shared.NextDouble;
        _prices = prices ?? PriceTable.Default;
    }

    /// <summary>Routes the request. Throws <see cref="OperationCanceledException"/> only when <paramref name="clientAborted"/> fires.</summary>
    public Task<RouteOutcome> RouteAsync(GatewayRequest request, RoutePlan plan, RequestContext context, CancellationToken clientAborted)
    {
        var state = new RouteState(request, plan, context, _prices);
        return ExecuteAsync(plan.Config.Root, state, clientAborted);
    }

    private sealed class RouteState(GatewayRequest request, RoutePlan plan, RequestContext context, PriceTable prices)
    {
        public GatewayRequest Request { get; } = request;
        public RoutePlan Plan { get; } = plan;
        public RequestContext Context { get; } = context;
        private ConditionContext? _conditions;
        private GatewayError? _metadataError;

        public ConditionContext? Conditions(out GatewayError? error)
        {
            if (_conditions is null && _metadataError is null)
            {
                var metadata = default(JsonElement);
                if (Request.Headers.Get("x-portkey-metadata") is { Length: > 0 } raw)
                {
                    try
                    {
                        using var doc = JsonDocument.Parse(raw);
                        if (doc.RootElement.ValueKind != JsonValueKind.Object)
                        {
                            _metadataError = GatewayError.Invalid("x-portkey-metadata must be a JSON object");
                        }
                        metadata = doc.RootElement.Clone();
                    }
                    catch (JsonException)
                    {
                        _metadataError = GatewayError.Invalid("x-portkey-metadata is not valid JSON");
                    }
                }
                if (_metadataError is null)
                {
                    _conditions = new ConditionContext(metadata, () => Request.ParsedBody, Request.Path, Request.Body.Length,
                        Request.Endpoint, prices, Context.StartedAt);
                }
            }
            error = _metadataError;
            return _conditions;
        }
    }

    private Task<RouteOutcome> ExecuteAsync(ConfigNode node, RouteState state, CancellationToken ct) => node.Mode switch
    {
        null => ExecuteLeafAsync(node, state, ct),
        StrategyMode.Single => ExecuteAsync(node.Targets[0], state, ct),
        StrategyMode.LoadBalance => ExecuteAsync(node.Targets[PickWeighted(node)], state, ct),
        StrategyMode.Fallback => ExecuteFallbackAsync(node, state, ct),
        StrategyMode.Conditional => ExecuteConditionalAsync(node, state, ct),
        _ => throw new InvalidOperationException("unknown strategy"),
    };

    private int PickWeighted(ConfigNode node)
    {
        var cumulative = node.CumulativeWeights;
        var r = _random() * cumulative[^1];
        // First index whose running sum exceeds r; zero-weight targets share their predecessor's sum and are never chosen.
        var lo = 0;
        var hi = cumulative.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) >> 1;
            if (r < cumulative[mid])
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private async Task<RouteOutcome> ExecuteFallbackAsync(ConfigNode node, RouteState state, CancellationToken ct)
    {
        RouteOutcome? outcome = null;
        for (var i = 0; i < node.Targets.Count; i++)
        {
            outcome?.Dispose();
            outcome = await ExecuteAsync(node.Targets[i], state, ct).ConfigureAwait(false);
            if (ShouldStopFallback(node, outcome))
            {
                return outcome;
            }
            if (i < node.Targets.Count - 1)
            {
                if (state.Context.Attempts is { Count: > 0 } attempts)
                {
                    attempts[^1].Reason = "fallback";
                }
                _logger.LogDebug("Fallback: {Path} answered {Status}; trying the next target", outcome.LastUsedOptionIndex, outcome.Status);
            }
        }
        return outcome!;
    }

    private static bool ShouldStopFallback(ConfigNode node, RouteOutcome outcome)
    {
        if (outcome.Error is { IsGatewayException: true })
        {
            return true;
        }
        return node.FallbackOnStatusCodes is { } codes ? !codes.Contains(outcome.Status) : outcome.IsSuccess;
    }

    private Task<RouteOutcome> ExecuteConditionalAsync(ConfigNode node, RouteState state, CancellationToken ct)
    {
        var context = state.Conditions(out var error);
        if (context is null)
        {
            return Task.FromResult(RouteOutcome.FromError(error!));
        }
        foreach (var (query, index) in node.Conditions)
        {
            if (query.Matches(context))
            {
                return ExecuteAsync(node.Targets[index], state, ct);
            }
        }
        if (node.DefaultTargetIndex >= 0)
        {
            return ExecuteAsync(node.Targets[node.DefaultTargetIndex], state, ct);
        }
        var outcome = RouteOutcome.FromError(new GatewayError(ErrorCategory.NoTarget, "Query router did not resolve to any valid target"));
        outcome.LastUsedOptionIndex = node.OptionPath;
        return Task.FromResult(outcome);
    }

    private ResolvedTarget? Resolve(ConfigNode leaf, RoutePlan plan, out GatewayError? error)
    {
        error = null;
        var headers = plan.Headers;
        var fromHeaders = leaf.Provider is null;
        var slug = leaf.Provider ?? headers.Provider;
        if (slug is null || !_providers.TryGetProvider(slug, out var provider))
        {
            error = GatewayError.Invalid("Either x-portkey-provider needs to be passed. Or the x-portkey-config header should have a valid config with provider details in it.");
            return null;
        }
        if (_providers.AdapterFor(provider) is null)
        {
            error = new GatewayError(ErrorCategory.ProviderUnavailable,
                $"Provider '{slug}' is recognised but its adapter is not available in this build of Switchyard") { Provider = slug };
            return null;
        }
        var settings = leaf.Settings;
        var customHost = settings.CustomHost ?? (fromHeaders ? headers.CustomHost : null);
        string baseUrl;
        if (customHost is not null)
        {
            baseUrl = customHost + provider.CustomHostPathPrefix;
        }
        else if (provider.BaseUrl is not null)
        {
            baseUrl = provider.BaseUrl;
        }
        else
        {
            error = GatewayError.Invalid($"Provider '{slug}' has no public endpoint: pass its address as custom_host or x-portkey-custom-host");
            return null;
        }
        IReadOnlyDictionary<string, string> fields = leaf.ProviderFields;
        if (fromHeaders && headers.ProviderFields.Count > 0)
        {
            var merged = new Dictionary<string, string>(headers.ProviderFields, StringComparer.Ordinal);
            foreach (var (k, v) in leaf.ProviderFields)
            {
                merged[k] = v;
            }
            fields = merged;
        }
        return new ResolvedTarget
        {
            Provider = provider,
            // A config target without api_key uses the client's own key (Portkey would send none).
            ApiKey = leaf.ApiKey is { Length: > 0 } key ? key : headers.ApiKey,
            BaseUrl = baseUrl,
            Settings = settings,
            ProviderFields = fields,
            ForwardHeaders = settings.ForwardHeaders ?? headers.ForwardHeaders ?? [],
        };
    }

    private Task<RouteOutcome> ExecuteLeafAsync(ConfigNode leaf, RouteState state, CancellationToken ct)
    {
        var request = state.Request;
        var target = Resolve(leaf, state.Plan, out var resolveError);
        RouteOutcome Fail(GatewayError e)
        {
            var o = RouteOutcome.FromError(e);
            o.LastUsedOptionIndex = leaf.OptionPath;
            o.Provider ??= target?.Provider.Slug;
            return o;
        }
        if (target is null)
        {
            return Task.FromResult(Fail(resolveError!));
        }
        var adapter = _providers.AdapterFor(target.Provider)!;
        if (adapter.Check(request, target) is { } unsupported)
        {
            return Task.FromResult(Fail(unsupported));
        }
        var exchange = new LeafExchange
        {
            Context = state.Context,
            Request = request,
            Leaf = leaf,
            Plan = state.Plan,
            Target = target,
            Adapter = adapter,
            Body = RequestBodyRewriter.Prepare(request, target),
        };
        return _leaves.RunAsync(exchange, ct);
    }
}
