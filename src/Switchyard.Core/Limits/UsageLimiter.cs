using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Configs;
using Switchyard.Core.Errors;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Requests;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Core.Usage.Pricing;

namespace Switchyard.Core.Limits;

/// <summary>
/// Rate limits and budgets: finds the rules that apply to a request (its key, the key's team, its virtual key, its model, the
/// matching policies), reserves in each subject's counters one subject after another before the request is sent, and settles
/// with what it used when it completes. Counters live in Redis when it is the cache store, else in this process; while Redis
/// fails each replica enforces its <c>LIMITS_REPLICAS</c> share locally, and never fails a request because of Redis.
/// </summary>
public sealed class UsageLimiter : ILimitUsage, IDisposable
{
    private readonly LimitOptions _options;
    private readonly string _prefix;
    private readonly PriceTable _prices;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<string, IReadOnlyList<LimitRule>?> _virtualKeyRules;
    private readonly WatchedFileStore<LimitsFile.Content, LimitsIndex>? _file;
    private readonly RedisLimitCounterStore? _redis;
    private readonly MemoryLimitCounterStore _local;
    private readonly LimitMetrics _metrics;
    private readonly Lock _stateLock = new();
    private readonly ConcurrentDictionary<string, long> _lastSeen = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (long Amount, long Period)> _outageSpend = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _virtualKeysSeen = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IReadOnlyList<LimitRule>> _keysSeen = new(StringComparer.Ordinal);
    private volatile LimitsIndex _index = LimitsIndex.Empty;
    private volatile IReadOnlyList<ApiKey> _keys = [];
    private volatile bool _keysCountUsage;
    private bool _failing;
    private DateTimeOffset _skipUntil;
    private volatile string? _problem;

    /// <param name="redis">The shared Redis database (<c>CACHE_STORE=redis</c>); null counts in this process only.</param>
    /// <param name="virtualKeyRules">A virtual key's rules by slug (null or empty when it has none).</param>
    /// <param name="keyPrefix">Prefix of every Redis key (<c>CACHE_KEY_PREFIX</c>).</param>
    public UsageLimiter(LimitOptions options, Func<CancellationToken, Task<StackExchange.Redis.IDatabase>>? redis,
        Func<string, IReadOnlyList<LimitRule>?> virtualKeyRules, PriceTable prices, TimeProvider time, ILogger logger,
        System.Diagnostics.Metrics.Meter? meter = null, string keyPrefix = "switchyard:")
    {
        _options = options;
        _prefix = keyPrefix.Replace("{", "", StringComparison.Ordinal).Replace("}", "", StringComparison.Ordinal);
        _prices = prices;
        _time = time;
        _logger = logger;
        _virtualKeyRules = virtualKeyRules;
        _redis = redis is null ? null : new RedisLimitCounterStore(redis, options.RedisTimeout, time);
        _local = new MemoryLimitCounterStore(SeedFromRedis);
        _metrics = new LimitMetrics(meter, () => Degraded ? 1 : 0);
        if (options.Path is { } path)
        {
            _file = new WatchedFileStore<LimitsFile.Content, LimitsIndex>(path, "LIMITS_PATH",
                (text, name, errors, warnings) => LimitsFile.Parse(text, name, errors, warnings), LimitsFile.Combine, LimitsIndex.Empty,
                logger, time, options.ReloadDebounce);
            _file.Reloaded += s => _index = s.Index;
        }
    }

    public LimitOptions Options => _options;

    /// <summary>The limits file as last loaded; null without <c>LIMITS_PATH</c>.</summary>
    public WatchedFileSnapshot<LimitsFile.Content, LimitsIndex>? File => _file?.Current;

    public string? FilePath => _file?.FullPath;

    /// <summary>Raised after each reload of the limits file.</summary>
    public event Action<WatchedFileSnapshot<LimitsFile.Content, LimitsIndex>>? Reloaded
    {
        add { if (_file is not null) _file.Reloaded += value; }
        remove { if (_file is not null) _file.Reloaded -= value; }
    }

    /// <summary><c>redis</c> (shared counters), <c>local</c> (memory store: this process only) or <c>degraded</c> (Redis failing: local shares).</summary>
    public string State => _redis is null ? "local" : Degraded ? "degraded" : "redis";

    /// <summary>Why Redis counters are not in use; null while they are (or none are configured).</summary>
    public string? Problem => Degraded ? _problem : null;

    private bool Degraded
    {
        get
        {
            lock (_stateLock)
            {
                return _failing;
            }
        }
    }

    /// <summary>Requests must carry their usage to settlement: a token or cost rule exists somewhere.</summary>
    public bool CountsUsage => _index.CountsUsage || _keysCountUsage || VirtualKeysCountUsage;

    /// <summary>Set by whoever owns virtual keys when one of them has a token or cost rule.</summary>
    public bool VirtualKeysCountUsage { get; set; }

    public void Start() => _file?.Start();

    /// <summary>The gateway keys as loaded now (their rules are read from the request's key; this serves the admin API and <see cref="CountsUsage"/>).</summary>
    public void UseKeys(IEnumerable<ApiKey> keys)
    {
        var list = keys.ToList();
        _keys = list;
        _keysCountUsage = list.Any(k => k.Limits.Any(r => r.Unit != LimitUnit.Requests));
    }

    /// <summary>The one check the request path pays when no rule exists anywhere.</summary>
    public bool Applies(RequestContext context) => !_index.IsEmpty || context.ApiKey is { Limits.Count: > 0 } || context.VirtualKey is not null;

    /// <summary>Reserves in every subject's counters; a refusal releases what earlier subjects reserved and answers 429 or 412.</summary>
    public async ValueTask<GatewayError?> AdmitAsync(RequestContext context, CancellationToken ct)
    {
        var request = context.Request!;
        var subjects = Collect(context, request);
        if (subjects is null)
        {
            return null;
        }
        var now = _time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var reservation = new LimitReservation { VirtualKey = context.VirtualKey };
        if (subjects.Any(s => s.Rules.Any(r => r.Unit != LimitUnit.Requests)))
        {
            (reservation.Tokens, reservation.CostNanos) = Estimate(context, request, now);
        }
        foreach (var (subject, label, rules) in subjects)
        {
            var counters = Build(subject, label, rules, reservation.Tokens, reservation.CostNanos, now, nowMs);
            var result = await ReserveAsync(counters, nowMs, ct).ConfigureAwait(false);
            counters.Used = result.Used;
            if (!result.Admitted)
            {
                Release(reservation);
                var rule = counters.Rules[result.RefusedIndex];
                _metrics.Refused(rule.Kind, subject.Kind, label);
                return Refusal(reservation, counters, result);
            }
            reservation.Subjects.Add(counters);
        }
        context.LimitReservation = reservation;
        return null;
    }

    /// <summary>After <c>Accounting.Settle</c>: corrects every reservation to what the request used (fire and forget, bounded).</summary>
    public void Settle(RequestContext context)
    {
        var reservation = context.LimitReservation;
        if (reservation is null)
        {
            // No admission ran for a virtual key the router chose from a config: count what it used.
            if (context.VirtualKey is { } slug && context.Error?.Category is not (ErrorCategory.RateLimited or ErrorCategory.UsageLimitExhausted
                    or ErrorCategory.VirtualKeyUsageLimitExhausted or ErrorCategory.PolicyUsageLimitExhausted) && context.Request is not null)
            {
                Charge(context, slug);
            }
            return;
        }
        if (Interlocked.Exchange(ref reservation.Settled, 1) != 0)
        {
            return;
        }
        var (tokens, cost) = Actual(context);
        foreach (var counters in reservation.Subjects)
        {
            var moved = counters.Subject.Kind == LimitSubjectKind.VirtualKey && context.VirtualKey != counters.Subject.Name;
            var deltas = new long[counters.Rules.Length];
            var any = false;
            for (var i = 0; i < deltas.Length; i++)
            {
                var used = moved ? 0 : counters.Rules[i].Unit switch
                {
                    LimitUnit.Requests => 1,
                    LimitUnit.Tokens => tokens,
                    _ => cost,
                };
                deltas[i] = used - counters.Amounts[i];
                any |= deltas[i] != 0;
            }
            if (any)
            {
                _ = AdjustAsync(counters, deltas, counters.Buckets);
            }
        }
        if (context.VirtualKey is { } answered && answered != reservation.VirtualKey)
        {
            Charge(context, answered);
        }
    }

    /// <summary>Adds what a request used to a virtual key that had no reservation (chosen after admission).</summary>
    private void Charge(RequestContext context, string slug)
    {
        if (_virtualKeyRules(slug) is not { Count: > 0 } rules)
        {
            return;
        }
        var now = _time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var (tokens, cost) = Actual(context);
        var counters = Build(new LimitSubject(LimitSubjectKind.VirtualKey, slug), slug, rules, tokens, cost, now, nowMs);
        counters.Local = _redis is null || Skipping(now);
        _ = AdjustAsync(counters, counters.Amounts, counters.Buckets);
    }

    private (long Tokens, long Cost) Actual(RequestContext context)
    {
        var hit = context.CacheStatus is Caching.CacheStatus.Hit or Caching.CacheStatus.SemanticHit;
        long tokens = 0;
        if (!hit && context.Usage is { } usage)
        {
            tokens = usage.TotalTokens > 0 ? usage.TotalTokens : usage.PromptTokens + usage.CompletionTokens;
        }
        return (tokens, hit ? 0 : LimitCounters.Nanos(context.Cost ?? 0));
    }

    private List<(LimitSubject Subject, string? Label, IReadOnlyList<LimitRule> Rules)>? Collect(RequestContext context, GatewayRequest request)
    {
        List<(LimitSubject, string?, IReadOnlyList<LimitRule>)>? found = null;
        if (context.ApiKey is { Limits.Count: > 0 } key)
        {
            // Remembered for the admin API when no key store reports its keys (JWT identities, in-process use).
            if (!_keysSeen.TryGetValue(key.Name, out var seen) || !ReferenceEquals(seen, key.Limits))
            {
                if (_keysSeen.Count < 10_000 || seen is not null)
                {
                    _keysSeen[key.Name] = key.Limits;
                }
            }
            (found ??= []).Add((new LimitSubject(LimitSubjectKind.Key, key.Name), key.Name, key.Limits));
        }
        var index = _index;
        if (context.Team is { } team && index.Teams.TryGetValue(team, out var teamRules))
        {
            (found ??= []).Add((new LimitSubject(LimitSubjectKind.Team, team), team, teamRules));
        }
        if (context.VirtualKey is { } slug && _virtualKeyRules(slug) is { Count: > 0 } vkRules)
        {
            if (_virtualKeysSeen.Count < 10_000)
            {
                _virtualKeysSeen.TryAdd(slug, 0);
            }
            (found ??= []).Add((new LimitSubject(LimitSubjectKind.VirtualKey, slug), slug, vkRules));
        }
        var model = request.Endpoint.HasJsonBody() ? request.BodyFacts.Model : null;
        if (model is not null && index.Models.TryGetValue(model, out var modelRules))
        {
            (found ??= []).Add((new LimitSubject(LimitSubjectKind.Model, model), model, modelRules));
        }
        if (index.Policies.Count > 0)
        {
            JsonObject? metadata = null;
            var metadataRead = false;
            var provider = Provider(context, request);
            foreach (var policy in index.Policies)
            {
                if (policy.Model is { } m && !string.Equals(m, model, StringComparison.OrdinalIgnoreCase)
                    || policy.Provider is { } p && !string.Equals(p, provider, StringComparison.OrdinalIgnoreCase)
                    || policy.Config is { } c && !(context.Plan is { Mode: "named" } plan && plan.Config.Source == c))
                {
                    continue;
                }
                if (index.ReadsMetadata && !metadataRead)
                {
                    metadata = Metadata(request);
                    metadataRead = true;
                }
                if (policy.Metadata.Any(e => LimitsFile.Scalar(metadata?[e.Key]) != e.Value))
                {
                    continue;
                }
                var name = policy.Name;
                if (policy.PerMetadataKey is { } per)
                {
                    // One counter per value; requests without the key share one counter.
                    name = policy.Name + "/" + (LimitsFile.Scalar(metadata?[per]) ?? "");
                }
                (found ??= []).Add((new LimitSubject(LimitSubjectKind.Policy, name), policy.PerMetadataKey is null ? policy.Name : null, policy.Rules));
            }
        }
        return found;
    }

    private static string? Provider(RequestContext context, GatewayRequest request) =>
        context.Plan?.Config.Root.Provider ?? request.Headers.Get("x-portkey-provider");

    private static JsonObject? Metadata(GatewayRequest request)
    {
        if (request.Headers.Get("x-portkey-metadata") is not { Length: > 0 } text)
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The reservation before the call: tokens = the body's size / 4 (a prompt estimate that never needs a tokenizer) plus
    /// <c>max_tokens</c> (or <c>max_completion_tokens</c>, <c>max_output_tokens</c>), else <c>LIMITS_DEFAULT_COMPLETION_TOKENS</c>;
    /// cost = those tokens priced for the request's model (0 when the price table does not know it).
    /// </summary>
    internal (long Tokens, long CostNanos) Estimate(RequestContext context, GatewayRequest request, DateTimeOffset now)
    {
        if (!request.Endpoint.HasJsonBody())
        {
            return (0, 0);
        }
        long prompt = (request.Body.Length + 3) / 4;
        var completion = request.Endpoint == EndpointKind.Embed ? 0 : MaxOutputTokens(request.Body.Span) ?? _options.DefaultCompletionTokens;
        var price = _prices.Find(Provider(context, request), request.BodyFacts.Model, now);
        var cost = price is null ? 0 : LimitCounters.Nanos(price.Estimate(prompt, completion));
        return (prompt + completion, cost);
    }

    /// <summary>The top-level <c>max_tokens</c>, <c>max_completion_tokens</c> or <c>max_output_tokens</c>, read without a tree.</summary>
    internal static long? MaxOutputTokens(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var wanted = reader.ValueTextEquals("max_tokens"u8) || reader.ValueTextEquals("max_completion_tokens"u8) || reader.ValueTextEquals("max_output_tokens"u8);
                reader.Read();
                if (wanted && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n) && n >= 0)
                {
                    return n;
                }
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    private SubjectCounters Build(LimitSubject subject, string? label, IReadOnlyList<LimitRule> rules, long tokens, long cost, DateTimeOffset now, long nowMs)
    {
        var tag = _prefix + "{sylim:" + LimitMetrics.KindName(subject.Kind) + ":" + SafeName(subject) + "}:";
        var specs = new CounterSpec[rules.Count];
        var amounts = new long[rules.Count];
        var buckets = new long[rules.Count];
        var fields = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var unit = rule.Unit switch
            {
                LimitUnit.Requests => "requests",
                LimitUnit.Tokens => "tokens",
                _ => "cost",
            };
            string field;
            long period;
            var sliding = rule.Kind == LimitKind.RateLimit;
            if (sliding)
            {
                period = LimitCounters.BucketMs(rule.Window);
                field = "r:" + unit + ":" + LimitRules.Name(rule.Window);
                buckets[i] = LimitCounters.Bucket(nowMs, period);
            }
            else
            {
                var (id, end) = LimitCounters.Period(rule.Window, now);
                period = end?.ToUnixTimeMilliseconds() ?? 0;
                field = "b:" + unit + ":" + LimitRules.Name(rule.Window) + ":" + id;
            }
            // Two rules of one unit and window (say 10 per minute and 15 per minute) need two counters.
            var unique = field;
            for (var n = 2; !fields.Add(unique); n++)
            {
                unique = field + ":" + n.ToString(CultureInfo.InvariantCulture);
            }
            specs[i] = new CounterSpec(tag + unique, sliding, Limit(rule), period);
            amounts[i] = rule.Unit switch
            {
                LimitUnit.Requests => 1,
                LimitUnit.Tokens => tokens,
                _ => cost,
            };
        }
        return new SubjectCounters { Subject = subject, Label = label, Rules = [.. rules], Specs = specs, Amounts = amounts, Buckets = buckets };
    }

    private static long Limit(LimitRule rule) => rule.Unit == LimitUnit.Cost ? LimitCounters.Nanos(rule.Amount) : (long)Math.Min(rule.Amount, long.MaxValue / 4);

    /// <summary>A subject's part of the hash tag: its name when that is short and plain, else a digest (a policy's per value always).</summary>
    private static string SafeName(LimitSubject subject)
    {
        var name = subject.Name;
        if (subject.Kind == LimitSubjectKind.Policy && name.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0)
        {
            return Plain(name[..slash]) + "/" + Digest(name[(slash + 1)..]);
        }
        return Plain(name);

        static string Plain(string s) => s.Length <= 100 && s.AsSpan().IndexOfAny("{}") < 0 && !s.Any(char.IsControl) ? s : "#" + Digest(s);
        static string Digest(string s) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)))[..16];
    }

    /// <summary>This replica's share of each limit, for counting locally.</summary>
    private CounterSpec[] LocalSpecs(SubjectCounters counters)
    {
        var replicas = _options.Replicas;
        if (replicas <= 1)
        {
            return counters.Specs;
        }
        var local = new CounterSpec[counters.Specs.Length];
        for (var i = 0; i < local.Length; i++)
        {
            var spec = counters.Specs[i];
            var share = counters.Rules[i].Unit == LimitUnit.Cost ? spec.Limit / replicas : Math.Max(1, spec.Limit / replicas);
            local[i] = spec with { Limit = share };
        }
        return local;
    }

    private async ValueTask<CounterResult> ReserveAsync(SubjectCounters counters, long nowMs, CancellationToken ct)
    {
        if (_redis is { } redis && !Skipping(_time.GetUtcNow()))
        {
            try
            {
                var shared = await redis.ReserveAsync(counters.Specs, counters.Amounts, nowMs, apply: true, ct).ConfigureAwait(false);
                RedisAnswered();
                counters.Local = false;
                Observe(counters, shared.Used, shared.Admitted ? counters.Amounts : null, counters.Specs);
                return shared;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                RedisFailed(ex);
            }
        }
        counters.Local = true;
        var specs = LocalSpecs(counters);
        var result = _local.Reserve(specs, counters.Amounts, nowMs, apply: true);
        if (result.Admitted)
        {
            RecordOutageSpend(counters, counters.Amounts);
        }
        Observe(counters, result.Used, result.Admitted ? counters.Amounts : null, specs);
        return result;
    }

    private void Observe(SubjectCounters counters, long[] used, long[]? added, CounterSpec[] specs)
    {
        for (var i = 0; i < specs.Length; i++)
        {
            if (!specs[i].Sliding)
            {
                var value = used[i] + (added?[i] ?? 0);
                if (!counters.Local && _lastSeen.Count < 100_000)
                {
                    _lastSeen[specs[i].Key] = value;
                }
                _metrics.BudgetUsed(counters.Subject.Kind, counters.Label, counters.Rules[i], value, specs[i].Limit);
            }
        }
    }

    /// <summary>A budget counted locally during an outage is added to Redis when it answers again, so spend is not forgotten.</summary>
    private void RecordOutageSpend(SubjectCounters counters, long[] amounts)
    {
        if (_redis is null)
        {
            return;
        }
        for (var i = 0; i < counters.Specs.Length; i++)
        {
            var spec = counters.Specs[i];
            if (!spec.Sliding && amounts[i] != 0 && (_outageSpend.ContainsKey(spec.Key) || _outageSpend.Count < 100_000))
            {
                _outageSpend.AddOrUpdate(spec.Key, (amounts[i], spec.Period), (_, old) => (old.Amount + amounts[i], spec.Period));
            }
        }
    }

    private long SeedFromRedis(string key) => _lastSeen.TryGetValue(key, out var used) ? used / _options.Replicas : 0;

    private async Task AdjustAsync(SubjectCounters counters, long[] deltas, long[] buckets)
    {
        try
        {
            if (!counters.Local && _redis is { } redis)
            {
                try
                {
                    var after = await redis.AdjustAsync(counters.Specs, deltas, buckets, CancellationToken.None).ConfigureAwait(false);
                    RedisAnswered();
                    Observe(counters, after, null, counters.Specs);
                    return;
                }
                catch (Exception ex)
                {
                    // The reservation stays as reserved: a rate limit counts it whole, a budget keeps the estimate.
                    RedisFailed(ex);
                    return;
                }
            }
            var specs = LocalSpecs(counters);
            var local = await _local.AdjustAsync(specs, deltas, buckets, CancellationToken.None).ConfigureAwait(false);
            RecordOutageSpend(counters, deltas);
            Observe(counters, local, null, specs);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Could not settle the limit counters of {Subject}", counters.Subject);
        }
    }

    private void Release(LimitReservation reservation)
    {
        Interlocked.Exchange(ref reservation.Settled, 1);
        foreach (var counters in reservation.Subjects)
        {
            _ = AdjustAsync(counters, counters.Amounts.Select(a => -a).ToArray(), counters.Buckets);
        }
    }

    private bool Skipping(DateTimeOffset now)
    {
        lock (_stateLock)
        {
            return _failing && now < _skipUntil;
        }
    }

    private void RedisFailed(Exception ex)
    {
        _metrics.StoreError();
        var message = ex is TimeoutException ? ex.Message : $"redis counter operation failed: {ex.Message}";
        _problem = message;
        bool first;
        lock (_stateLock)
        {
            first = !_failing;
            _failing = true;
            _skipUntil = _time.GetUtcNow() + _options.RedisRetryInterval;
        }
        if (first)
        {
            _logger.LogWarning("Limit counters in Redis are failing ({Reason}); this replica enforces 1/{Replicas} of each limit locally until Redis answers",
                message, _options.Replicas);
        }
    }

    private void RedisAnswered()
    {
        lock (_stateLock)
        {
            if (!_failing)
            {
                return;
            }
            _failing = false;
        }
        _logger.LogInformation("Limit counters in Redis answer again; local counts are dropped and budget spend counted during the outage is added to Redis");
        _local.Clear();
        _ = FlushOutageSpendAsync();
    }

    private async Task FlushOutageSpendAsync()
    {
        foreach (var key in _outageSpend.Keys.ToList())
        {
            if (!_outageSpend.TryRemove(key, out var spend) || spend.Amount == 0 || _redis is null)
            {
                continue;
            }
            try
            {
                await _redis.AdjustAsync([new CounterSpec(key, false, 0, spend.Period)], [spend.Amount], [0], CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _outageSpend.AddOrUpdate(key, spend, (_, old) => (old.Amount + spend.Amount, spend.Period));
                RedisFailed(ex);
                return;
            }
        }
    }

    private GatewayError Refusal(LimitReservation reservation, SubjectCounters counters, CounterResult result)
    {
        var rule = counters.Rules[result.RefusedIndex];
        var subject = counters.Subject;
        var who = Describe(subject);
        if (rule.Kind == LimitKind.Budget)
        {
            return subject.Kind switch
            {
                LimitSubjectKind.VirtualKey => new GatewayError(ErrorCategory.VirtualKeyUsageLimitExhausted, $"Portkey Virtual Key {subject.Name} Usage Limit Exceeded"),
                LimitSubjectKind.Policy => new GatewayError(ErrorCategory.PolicyUsageLimitExhausted, $"Usage limit exceeded: {who} has used its budget of {rule.Describe()}"),
                _ => new GatewayError(ErrorCategory.UsageLimitExhausted, $"Usage limit exceeded: {who} has used its budget of {rule.Describe()}"),
            };
        }
        var amount = counters.Amounts[result.RefusedIndex];
        var spec = counters.Local ? LocalSpecs(counters)[result.RefusedIndex] : counters.Specs[result.RefusedIndex];
        var message = result.RetryAfterMs < 0
            ? $"Rate limit exceeded: this request reserves {amount} tokens, more than {who} allows ({rule.Describe()})"
            : $"Rate limit exceeded: {who} allows {rule.Describe()}";
        var retryMs = result.RetryAfterMs < 0 ? LimitCounters.WindowMs(rule.Window) : Math.Max(1, result.RetryAfterMs);
        var headers = new List<KeyValuePair<string, string>>
        {
            new("Retry-After", Seconds(retryMs)),
            new("x-ratelimit-limit", Number(spec.Limit)),
            new("x-ratelimit-remaining", Number(Math.Max(0, spec.Limit - result.Used[result.RefusedIndex]))),
            new("x-ratelimit-reset", Seconds(retryMs)),
        };
        // OpenAI's per-unit headers: the tightest rule of each unit among the subjects checked so far.
        foreach (var unit in (LimitUnit[])[LimitUnit.Requests, LimitUnit.Tokens])
        {
            var name = unit == LimitUnit.Requests ? "requests" : "tokens";
            (long Limit, long Remaining, long ResetMs)? tightest = null;
            foreach (var c in reservation.Subjects.Append(counters))
            {
                var specs = c.Local ? LocalSpecs(c) : c.Specs;
                for (var i = 0; i < c.Rules.Length; i++)
                {
                    if (c.Rules[i].Kind != LimitKind.RateLimit || c.Rules[i].Unit != unit || c.Used.Length <= i)
                    {
                        continue;
                    }
                    var refusing = ReferenceEquals(c, counters) && i == result.RefusedIndex;
                    var remaining = Math.Max(0, specs[i].Limit - c.Used[i] - (ReferenceEquals(c, counters) ? 0 : c.Amounts[i]));
                    if (tightest is null || remaining < tightest.Value.Remaining || refusing)
                    {
                        tightest = (specs[i].Limit, remaining, refusing ? retryMs : 0);
                    }
                }
            }
            if (tightest is { } t)
            {
                headers.Add(new($"x-ratelimit-limit-{name}", Number(t.Limit)));
                headers.Add(new($"x-ratelimit-remaining-{name}", Number(t.Remaining)));
                headers.Add(new($"x-ratelimit-reset-{name}", Duration(t.ResetMs)));
            }
        }
        return new GatewayError(ErrorCategory.RateLimited, message) { Headers = headers };
    }

    private static string Describe(LimitSubject subject) => subject.Kind switch
    {
        LimitSubjectKind.Key => $"key '{subject.Name}'",
        LimitSubjectKind.Team => $"team '{subject.Name}'",
        LimitSubjectKind.VirtualKey => $"virtual key '{subject.Name}'",
        LimitSubjectKind.Model => $"model '{subject.Name}'",
        // A per-value policy names only the policy: the value is the caller's own metadata.
        _ => subject.Name.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0 ? $"policy '{subject.Name[..slash]}'" : $"policy '{subject.Name}'",
    };

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(long ms) => Number(Math.Max(1, (ms + 999) / 1000));

    /// <summary>OpenAI's reset format: <c>20ms</c>, <c>1.5s</c>, <c>6m0s</c>, <c>1h2m3s</c>.</summary>
    internal static string Duration(long ms)
    {
        if (ms < 1000)
        {
            return Number(Math.Max(0, ms)) + "ms";
        }
        var t = TimeSpan.FromMilliseconds(ms);
        var seconds = (t.Seconds + t.Milliseconds / 1000m).ToString("0.###", CultureInfo.InvariantCulture) + "s";
        if (t.TotalHours >= 1)
        {
            return Number((long)t.TotalHours) + "h" + Number(t.Minutes) + "m" + seconds;
        }
        return t.TotalMinutes >= 1 ? Number(t.Minutes) + "m" + seconds : seconds;
    }

    // ILimitUsage: the admin API's view.

    public IReadOnlyList<LimitSubject> Subjects
    {
        get
        {
            var index = _index;
            var list = new List<LimitSubject>();
            list.AddRange(_keys.Where(k => k.Limits.Count > 0).Select(k => k.Name).Concat(_keysSeen.Keys).Distinct().Order(StringComparer.Ordinal)
                .Select(k => new LimitSubject(LimitSubjectKind.Key, k)));
            list.AddRange(index.Teams.Keys.Order(StringComparer.Ordinal).Select(t => new LimitSubject(LimitSubjectKind.Team, t)));
            list.AddRange(_virtualKeysSeen.Keys.Order(StringComparer.Ordinal).Select(v => new LimitSubject(LimitSubjectKind.VirtualKey, v)));
            list.AddRange(index.Models.Keys.Order(StringComparer.Ordinal).Select(m => new LimitSubject(LimitSubjectKind.Model, m)));
            list.AddRange(index.Policies.Select(p => new LimitSubject(LimitSubjectKind.Policy, p.Name)));
            return list;
        }
    }

    /// <summary>Whether any rule exists now (keys, teams, models, policies, or a virtual key seen with rules).</summary>
    public bool HasRules => !_index.IsEmpty || _keys.Any(k => k.Limits.Count > 0) || !_keysSeen.IsEmpty || !_virtualKeysSeen.IsEmpty;

    public async ValueTask<IReadOnlyList<LimitStatus>> StatusAsync(LimitSubject subject, CancellationToken ct)
    {
        var index = _index;
        IReadOnlyList<LimitRule>? rules = subject.Kind switch
        {
            LimitSubjectKind.Key => _keys.FirstOrDefault(k => k.Name == subject.Name)?.Limits ?? _keysSeen.GetValueOrDefault(subject.Name),
            LimitSubjectKind.Team => index.Teams.GetValueOrDefault(subject.Name),
            LimitSubjectKind.VirtualKey => _virtualKeyRules(subject.Name),
            LimitSubjectKind.Model => index.Models.GetValueOrDefault(subject.Name),
            _ => index.Policies.FirstOrDefault(p => p.Name == subject.Name.Split('/')[0])?.Rules,
        };
        if (rules is not { Count: > 0 })
        {
            return [];
        }
        var now = _time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var counters = Build(subject, null, rules, 0, 0, now, nowMs);
        Array.Clear(counters.Amounts);
        CounterResult result;
        var specs = counters.Specs;
        var source = "redis";
        if (_redis is { } redis && !Skipping(now))
        {
            try
            {
                result = await redis.ReserveAsync(specs, counters.Amounts, nowMs, apply: false, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                RedisFailed(ex);
                specs = LocalSpecs(counters);
                source = "local";
                result = _local.Reserve(specs, counters.Amounts, nowMs, apply: false);
            }
        }
        else
        {
            specs = LocalSpecs(counters);
            source = "local";
            result = _local.Reserve(specs, counters.Amounts, nowMs, apply: false);
        }
        var statuses = new List<LimitStatus>();
        for (var i = 0; i < specs.Length; i++)
        {
            var rule = counters.Rules[i];
            var used = result.Used[i];
            var remaining = Math.Max(0, specs[i].Limit - used);
            DateTimeOffset? resets = specs[i].Sliding ? null : specs[i].Period > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(specs[i].Period) : null;
            statuses.Add(rule.Unit == LimitUnit.Cost
                ? new LimitStatus(subject, rule, LimitCounters.Usd(used), LimitCounters.Usd(remaining), resets, source)
                : new LimitStatus(subject, rule, used, remaining, resets, source));
        }
        return statuses;
    }

    public void Dispose() => _file?.Dispose();
}
