using System.Globalization;
using Switchyard.Core.Limits;

namespace Switchyard.Gateway.Mcp.Policy;

/// <summary>
/// The servers' <c>rate_limits</c> on <c>tools/call</c>, counted in the gateway's limit counter stores
/// (<see cref="ILimitCounterStore"/>: <see cref="RedisLimitCounterStore"/> shared by every replica when the engine has Redis,
/// <see cref="MemoryLimitCounterStore"/> otherwise and while Redis fails). Every rule that applies to one call is checked and
/// counted in one atomic reservation; a rule with tool <c>*</c> counts each tool separately.
/// </summary>
public sealed class McpRateLimiter
{
    /// <summary>The JSON-RPC error code of a rate-limited tool call (implementation-defined server error range).</summary>
    public const int RateLimitedCode = -32029;

    private readonly ILimitCounterStore? _shared;
    private readonly MemoryLimitCounterStore _local = new();
    private readonly TimeProvider _time;
    private readonly string _prefix;
    private readonly ILogger _logger;
    private long _sharedFailingSince = -1;

    /// <param name="shared">The counters every replica shares (Redis); null counts in this process only.</param>
    /// <param name="keyPrefix">Prefix of every counter key (<c>CACHE_KEY_PREFIX</c>).</param>
    public McpRateLimiter(ILimitCounterStore? shared, TimeProvider time, ILogger logger, string keyPrefix = "switchyard:")
    {
        _shared = shared;
        _time = time;
        _logger = logger;
        _prefix = keyPrefix.Replace("{", "", StringComparison.Ordinal).Replace("}", "", StringComparison.Ordinal);
    }

    /// <summary><c>redis</c> (shared counts), <c>local</c> (this process), or <c>degraded</c> (Redis failing: counted locally).</summary>
    public string State => _shared is null ? "local" : Interlocked.Read(ref _sharedFailingSince) >= 0 ? "degraded" : "redis";

    /// <summary>Counts one call of <paramref name="tool"/>; a refusal (429, <see cref="RateLimitedCode"/>, Retry-After) when a rule is exhausted, else null.</summary>
    public async ValueTask<McpAdmission?> AdmitAsync(McpCaller caller, McpUpstreamServer server, string tool, CancellationToken ct)
    {
        if (server.RateLimits.Count == 0)
        {
            return null;
        }
        var rules = new List<McpRateLimit>(server.RateLimits.Count);
        foreach (var rule in server.RateLimits)
        {
            if (rule.Tool == "*" || string.Equals(rule.Tool, tool, StringComparison.Ordinal))
            {
                rules.Add(rule);
            }
        }
        if (rules.Count == 0)
        {
            return null;
        }
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var specs = new CounterSpec[rules.Count];
        var amounts = new long[rules.Count];
        // One hash tag per (server, tool): every counter of one call lives on one Redis node, so the reservation is one atomic script.
        var tag = "{" + _prefix + "mcprl:" + Escape(server.Id) + ":" + Escape(tool) + "}";
        for (var i = 0; i < rules.Count; i++)
        {
            specs[i] = Spec(tag, rules[i], caller, nowMs);
            amounts[i] = 1;
        }
        var result = await ReserveAsync(specs, amounts, nowMs, ct).ConfigureAwait(false);
        if (result.Admitted)
        {
            return null;
        }
        var refused = rules[result.RefusedIndex];
        TimeSpan? retry = result.RetryAfterMs >= 0 ? TimeSpan.FromMilliseconds(Math.Max(result.RetryAfterMs, 1)) : null;
        var per = refused.Per == McpRateScope.Caller ? "per caller" : "for all callers";
        var window = Describe(refused.Window);
        var retryText = retry is { } r ? $"; retry after {Math.Ceiling(r.TotalSeconds).ToString(CultureInfo.InvariantCulture)}s" : "";
        return new McpAdmission
        {
            HttpStatus = StatusCodes.Status429TooManyRequests,
            ErrorCode = RateLimitedCode,
            Message = $"Rate limit exceeded for tool '{tool}' of server '{server.Id}': {refused.Requests.ToString(CultureInfo.InvariantCulture)} calls per {window} {per}{retryText}",
            RetryAfter = retry,
        };
    }

    private async ValueTask<CounterResult> ReserveAsync(CounterSpec[] specs, long[] amounts, long nowMs, CancellationToken ct)
    {
        if (_shared is not null)
        {
            try
            {
                var result = await _shared.ReserveAsync(specs, amounts, nowMs, apply: true, ct).ConfigureAwait(false);
                if (Interlocked.Exchange(ref _sharedFailingSince, -1) >= 0)
                {
                    _logger.LogInformation("MCP rate limits: Redis answers again; counts are shared by every replica");
                    _local.Clear();
                }
                return result;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                if (Interlocked.CompareExchange(ref _sharedFailingSince, nowMs, -1) < 0)
                {
                    _logger.LogWarning("MCP rate limits: Redis failed ({Error}); counting in this replica only until it answers again", e.Message);
                }
            }
        }
        return _local.Reserve(specs, amounts, nowMs, apply: true);
    }

    private CounterSpec Spec(string tag, McpRateLimit rule, McpCaller caller, long nowMs)
    {
        var windowMs = Math.Max(1, (long)rule.Window.TotalMilliseconds);
        var who = rule.Per == McpRateScope.Caller ? "c:" + Escape(caller.Id) : "s";
        var ruleId = rule.Requests.ToString(CultureInfo.InvariantCulture) + "/" + windowMs.ToString(CultureInfo.InvariantCulture);
        if (rule.Sliding && windowMs >= LimitCounters.Buckets)
        {
            return new CounterSpec(tag + ":s:" + ruleId + ":" + who, true, rule.Requests, windowMs / LimitCounters.Buckets);
        }
        // Fixed: one counter per window, the window's index in the key and its end as the period (the store's retry is end - now).
        var index = nowMs / windowMs;
        return new CounterSpec(tag + ":f:" + ruleId + ":" + who + ":" + index.ToString(CultureInfo.InvariantCulture), false, rule.Requests,
            (index + 1) * windowMs);
    }

    private static string Describe(TimeSpan window) =>
        window.TotalSeconds >= 1 && window.TotalSeconds == Math.Floor(window.TotalSeconds)
            ? window.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s"
            : window.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms";

    private static string Escape(string value) => value.Replace("{", "%7B", StringComparison.Ordinal).Replace("}", "%7D", StringComparison.Ordinal);
}
