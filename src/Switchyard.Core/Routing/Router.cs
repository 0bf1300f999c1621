using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Caching;
using Switchyard.Core.Configs;
using Switchyard.Core.Errors;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;
using Switchyard.Core.Routing.Conditions;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Routing;

/// <summary>Walks a compiled config for one request: strategies at inner nodes, retries and per-attempt timeouts at leaves.</summary>
public sealed class Router
{
    private readonly ProviderRegistry _providers;
    private readonly HttpMessageInvoker _upstream;
    private readonly GatewaySettings _settings;
    private readonly TimeProvider _time;
    private readonly Func<double> _random;
    private readonly ILogger _logger;

    private readonly ResponseCache? _cache;

    public Router(ProviderRegistry providers, HttpMessageInvoker upstream, GatewaySettings settings, TimeProvider time, ILogger logger, Func<double>? random = null,
        ResponseCache? cache = null)
    {
        _cache = cache;
        _providers = providers;
        _upstream = upstream;
        _settings = settings;
        _time = time;
        _logger = logger;
        _random = random ?? Random.Shared.NextDouble;
    }

    /// <summary>Routes the request. Throws <see cref="OperationCanceledException"/> only when <paramref name="clientAborted"/> fires.</summary>
    public Task<RouteOutcome> RouteAsync(GatewayRequest request, RoutePlan plan, CancellationToken clientAborted)
    {
        var state = new RouteState(request, plan);
        return ExecuteAsync(plan.Config.Root, state, clientAborted);
    }

    private sealed class RouteState(GatewayRequest request, RoutePlan plan)
    {
        public GatewayRequest Request { get; } = request;
        public RoutePlan Plan { get; } = plan;
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
                    _conditions = new ConditionContext(metadata, () => Request.ParsedBody, Request.Path, Request.Body.Length);
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

    private async Task<RouteOutcome> ExecuteLeafAsync(ConfigNode leaf, RouteState state, CancellationToken ct)
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
            return Fail(resolveError!);
        }
        var adapter = _providers.AdapterFor(target.Provider)!;
        if (adapter.Check(request, target) is { } unsupported)
        {
            return Fail(unsupported);
        }

        var body = RequestBodyRewriter.Prepare(request, target);
        var call = LeafCall.Plan(request, target, adapter, body, out var planError);
        if (call is null)
        {
            return Fail(planError!);
        }
        var cache = _cache?.Begin(request, target, body) ?? CacheLookup.Disabled;
        if (cache.IsEnabled && await cache.TryHitAsync(ct).ConfigureAwait(false) is { } hit)
        {
            return new RouteOutcome
            {
                Response = hit, LastUsedOptionIndex = leaf.OptionPath, Provider = target.Provider.Slug, CacheStatus = cache.Status,
            };
        }
        var retry = target.Settings.Retry ?? RetrySettings.None;
        var timeoutMs = state.Plan.Headers.RequestTimeoutMs ?? target.Settings.RequestTimeoutMs;
        var timeout = timeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : _settings.DefaultRequestTimeout;
        var waited = TimeSpan.Zero;

        for (var attempt = 0; ; attempt++)
        {
            var outcome = await SendOnceAsync(call, target, timeout, timeoutMs, ct).ConfigureAwait(false);
            outcome.LastUsedOptionIndex = leaf.OptionPath;
            outcome.Provider = target.Provider.Slug;
            outcome.RetryAttemptCount = attempt;
            outcome.CacheStatus = cache.Status;

            var retriable = outcome.Error is { IsTransient: true } || (!outcome.IsSuccess && outcome.Error is not { IsGatewayException: true } && retry.OnStatusCodes.Contains(outcome.Status));
            if (!retriable)
            {
                if (cache.IsEnabled && outcome.IsSuccess)
                {
                    outcome.Response = cache.StoreOnCompletion(outcome.Response!);
                }
                return outcome;
            }
            if (attempt >= retry.Attempts)
            {
                if (retry.Attempts > 0)
                {
                    outcome.RetryAttemptCount = -1;
                }
                return outcome;
            }

            var delay = RetryDelays.Backoff(attempt + 1, _settings.RetryInitialDelay, _settings.RetryMaxDelay, _random());
            if (retry.UseRetryAfterHeader && outcome.Response is not null
                && RetryDelays.RequestedByUpstream(outcome.Response.Headers, _time.GetUtcNow()) is { } requested)
            {
                delay = requested;
            }
            if (waited + delay > _settings.RetryBudget)
            {
                // Waiting longer than the budget allows would hold the client for nothing: answer now.
                outcome.RetryAttemptCount = -1;
                return outcome;
            }
            _logger.LogDebug("Retrying {Path} after {Status} in {Delay} ms (retry {Retry} of {Attempts})",
                leaf.OptionPath, outcome.Status, (int)delay.TotalMilliseconds, attempt + 1, retry.Attempts);
            outcome.Dispose();
            waited += delay;
            await Task.Delay(delay, _time, ct).ConfigureAwait(false);
        }
    }

    private async Task<RouteOutcome> SendOnceAsync(LeafCall call, ResolvedTarget target, TimeSpan timeout, int? timeoutMs, CancellationToken clientAborted)
    {
        var scope = CancellationTokenSource.CreateLinkedTokenSource(clientAborted);
        scope.CancelAfter(timeout);
        HttpRequestMessage? message = null;
        try
        {
            message = await call.CreateRequestAsync(scope.Token).ConfigureAwait(false);
            var response = await _upstream.SendAsync(message, scope.Token).ConfigureAwait(false);
            // The timeout covers the wait for response headers only: a long stream is not cut.
            scope.CancelAfter(Timeout.InfiniteTimeSpan);
            return RouteOutcome.FromResponse(await call.AdaptResponseAsync(response, clientAborted).ConfigureAwait(false), scope);
        }
        catch (GatewayErrorException ex)
        {
            scope.Dispose();
            return RouteOutcome.FromError(ex.Error);
        }
        catch (OperationCanceledException) when (!clientAborted.IsCancellationRequested)
        {
            scope.Dispose();
            var shown = timeoutMs ?? (int)timeout.TotalMilliseconds;
            return RouteOutcome.FromError(new GatewayError(ErrorCategory.Timeout, $"Request exceeded the timeout sent in the request: {shown}ms") { Provider = target.Provider.Slug });
        }
        catch (HttpRequestException ex) when (!clientAborted.IsCancellationRequested)
        {
            scope.Dispose();
            var host = message?.RequestUri?.Authority ?? target.BaseUrl;
            var reason = ex.InnerException is SocketException se ? se.SocketErrorCode.ToString() : ex.HttpRequestError.ToString();
            _logger.LogWarning("Upstream {Provider} at {Host} unreachable: {Reason}", target.Provider.Slug, host, reason);
            return RouteOutcome.FromError(new GatewayError(ErrorCategory.UpstreamUnreachable,
                $"Could not reach {target.Provider.Slug} at {host}: {Describe(ex)}") { Provider = target.Provider.Slug });
        }
        catch
        {
            scope.Dispose();
            throw;
        }
        finally
        {
            message?.Dispose();
        }
    }

    private static string Describe(HttpRequestException ex) => ex.InnerException switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused",
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain } => "host not found",
        SocketException s => s.SocketErrorCode.ToString(),
        _ => ex.HttpRequestError switch
        {
            HttpRequestError.ResponseEnded => "the connection closed before a response arrived",
            HttpRequestError.SecureConnectionError => "TLS handshake failed",
            HttpRequestError.NameResolutionError => "host not found",
            HttpRequestError.InvalidResponse => "the upstream sent an invalid HTTP response",
            _ => ex.HttpRequestError.ToString(),
        },
    };
}
