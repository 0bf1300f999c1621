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
    private readonly Security.VirtualKeys.VirtualKeyStore? _virtualKeys;

    /// <param name="prices">Prices for the <c>request.estimated_cost</c> condition key; <see cref="PriceTable.Default"/> when null.</param>
    /// <param name="virtualKeys">Where a target's <c>virtual_key</c> is looked up when the target runs.</param>
    public Router(ProviderRegistry providers, LeafPipeline leaves, ILogger logger, Func<double>? random = null, PriceTable? prices = null,
        Security.VirtualKeys.VirtualKeyStore? virtualKeys = null)
    {
        _virtualKeys = virtualKeys;
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

    private ResolvedTarget? Resolve(ConfigNode leaf, RouteState state, out GatewayError? error)
    {
        error = null;
        var plan = state.Plan;
        var headers = plan.Headers;
        Security.VirtualKeys.VirtualKey? vk = null;
        if (leaf.VirtualKey is { } vkSlug)
        {
            // Looked up now, not when the config compiled: virtual keys reload independently of configs.
            if (_virtualKeys is null || !_virtualKeys.TryGet(vkSlug, out vk))
            {
                error = GatewayError.Invalid($"Virtual key '{vkSlug}' named at {leaf.OptionPath} is not loaded"
                    + (_virtualKeys is null ? " (no virtual keys are configured: set VIRTUAL_KEYS_PATH)" : " from VIRTUAL_KEYS_PATH"));
                return null;
            }
            if (leaf.Provider is not null && !string.Equals(leaf.Provider, vk.Provider, StringComparison.OrdinalIgnoreCase))
            {
                error = GatewayError.Invalid($"The target at {leaf.OptionPath} names provider '{leaf.Provider}' but virtual key '{vk.Slug}' is for provider '{vk.Provider}'");
                return null;
            }
        }
        else if (leaf.Provider is null)
        {
            vk = headers.VirtualKey;
        }
        var fromHeaders = leaf.Provider is null && leaf.VirtualKey is null;
        var slug = vk?.Provider ?? leaf.Provider ?? headers.Provider;
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
        if (vk is not null && settings.CustomHost is not null)
        {
            // An inline config is the client's: it must not send the operator's credential to a host of its choosing.
            error = GatewayError.Invalid("custom_host cannot be combined with a virtual key: the virtual key's credential goes only to the host set in its file");
            return null;
        }
        if (vk?.Models is { } allowedModels && ModelOf(leaf, state.Request) is { } model && !allowedModels.Contains(model))
        {
            error = GatewayError.Forbidden($"Virtual key '{vk.Slug}' may not be used with model '{Printable(model)}'") with { Provider = slug };
            return null;
        }
        var customHost = vk is not null ? vk.CustomHost : settings.CustomHost ?? (fromHeaders ? headers.CustomHost : null);
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
        if (vk is not null)
        {
            // The virtual key's settings win; around them only the behaviour fields (beta flags, versions) of the config or headers.
            var merged = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var source in fromHeaders ? [headers.ProviderFields, leaf.ProviderFields] : new[] { leaf.ProviderFields })
            {
                foreach (var (k, v) in source)
                {
                    if (ConfigCompiler.VirtualKeySafeFields.Contains(k))
                    {
                        merged[k] = v;
                    }
                }
            }
            foreach (var (k, v) in vk.ProviderFields)
            {
                merged[k] = v;
            }
            fields = merged;
        }
        else if (fromHeaders && headers.ProviderFields.Count > 0)
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
            // A config target without api_key uses the client's own key (Portkey would send none); a virtual key uses only its own.
            ApiKey = vk is not null ? vk.ApiKey : leaf.ApiKey is { Length: > 0 } key ? key : headers.ApiKey,
            BaseUrl = baseUrl,
            Settings = settings,
            ProviderFields = fields,
            ForwardHeaders = settings.ForwardHeaders ?? headers.ForwardHeaders ?? [],
            VirtualKey = vk?.Slug,
            ExtraHeaders = vk is { Headers.Count: > 0 } ? vk.Headers : null,
        };
    }

    /// <summary>The model the provider will be asked for: the target's <c>override_params.model</c>, else the client's.</summary>
    private static string? ModelOf(ConfigNode leaf, GatewayRequest request) =>
        leaf.Settings.OverrideParams is { } overrides && overrides.TryGetPropertyValue("model", out var node)
            && node is System.Text.Json.Nodes.JsonValue value && value.TryGetValue<string>(out var model)
            ? model
            : request.BodyFacts.Model;

    private static string Printable(string value)
    {
        var s = value.Length > 100 ? value[..100] + "…" : value;
        return string.Concat(s.Select(c => char.IsControl(c) ? '?' : c));
    }

    private Task<RouteOutcome> ExecuteLeafAsync(ConfigNode leaf, RouteState state, CancellationToken ct)
    {
        var request = state.Request;
        var target = Resolve(leaf, state, out var resolveError);
        // The answering leaf's virtual key is the request's: the last leaf tried sets it (null when it used none).
        state.Context.VirtualKey = target?.VirtualKey ?? leaf.VirtualKey ?? (leaf.Provider is null ? state.Plan.Headers.VirtualKey?.Slug : null);
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
