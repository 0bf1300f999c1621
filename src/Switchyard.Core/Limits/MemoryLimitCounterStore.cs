namespace Switchyard.Core.Limits;

/// <summary>
/// Counters in this process: the only store with <c>CACHE_STORE=memory</c> (one replica), and each replica's fallback while Redis
/// is unreachable. One lock for all counters: an operation is a few array reads, far shorter than any request.
/// </summary>
public sealed class MemoryLimitCounterStore : ILimitCounterStore
{
    private const int Slots = LimitCounters.Buckets + 1;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly Func<string, long>? _seed;
    private long _lastSweepMs;

    /// <param name="seed">A new budget counter's starting value (the fallback starts from this replica's share of what Redis last said was used).</param>
    public MemoryLimitCounterStore(Func<string, long>? seed = null) => _seed = seed;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _counters.Count;
            }
        }
    }

    private sealed class Counter
    {
        public long[]? Counts;
        public long[]? Indexes;
        public long Value;
        public long ExpiresAtMs;
    }

    public ValueTask<CounterResult> ReserveAsync(CounterSpec[] specs, long[] amounts, long nowMs, bool apply, CancellationToken ct) =>
        ValueTask.FromResult(Reserve(specs, amounts, nowMs, apply));

    public CounterResult Reserve(CounterSpec[] specs, long[] amounts, long nowMs, bool apply)
    {
        var used = new long[specs.Length];
        lock (_lock)
        {
            Sweep(nowMs);
            var refused = -1;
            long retry = 0;
            for (var i = 0; i < specs.Length; i++)
            {
                var spec = specs[i];
                _counters.TryGetValue(spec.Key, out var c);
                if (spec.Sliding)
                {
                    var current = LimitCounters.Bucket(nowMs, spec.Period);
                    used[i] = c is null ? 0 : SlidingSum(c, current);
                    if (refused < 0 && LimitCounters.Refuses(used[i], amounts[i], spec.Limit))
                    {
                        refused = i;
                        retry = LimitCounters.SlidingRetryAfter(j => c is null ? 0 : CountAt(c, j), current, nowMs, spec.Period, used[i], amounts[i], spec.Limit);
                    }
                }
                else
                {
                    used[i] = c is null ? Seed(spec.Key) : c.Value;
                    if (refused < 0 && LimitCounters.Refuses(used[i], amounts[i], spec.Limit))
                    {
                        refused = i;
                        retry = spec.Period > 0 ? spec.Period - nowMs : -1;
                    }
                }
            }
            if (refused >= 0 || !apply)
            {
                return new CounterResult(refused, retry, used);
            }
            for (var i = 0; i < specs.Length; i++)
            {
                Add(specs[i], amounts[i], LimitCounters.Bucket(nowMs, specs[i].Sliding ? specs[i].Period : 1));
            }
            return new CounterResult(-1, 0, used);
        }
    }

    public ValueTask<long[]> AdjustAsync(CounterSpec[] specs, long[] deltas, long[] buckets, CancellationToken ct)
    {
        var after = new long[specs.Length];
        lock (_lock)
        {
            for (var i = 0; i < specs.Length; i++)
            {
                after[i] = Add(specs[i], deltas[i], buckets[i]);
            }
        }
        return ValueTask.FromResult(after);
    }

    /// <summary>Drops every counter (Redis is back: its counters are the truth again).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _counters.Clear();
        }
    }

    private long Seed(string key) => _seed?.Invoke(key) ?? 0;

    private long Add(CounterSpec spec, long delta, long bucket)
    {
        if (!_counters.TryGetValue(spec.Key, out var c))
        {
            if (delta <= 0 && spec.Sliding)
            {
                return 0;
            }
            c = spec.Sliding ? new Counter { Counts = new long[Slots], Indexes = Fill(new long[Slots]) } : new Counter { Value = Seed(spec.Key) };
            _counters[spec.Key] = c;
        }
        if (spec.Sliding)
        {
            var slot = (int)(bucket % Slots);
            if (c.Indexes![slot] == bucket)
            {
                c.Counts![slot] = Math.Max(0, c.Counts[slot] + delta);
            }
            else if (c.Indexes[slot] < bucket && delta > 0)
            {
                c.Indexes[slot] = bucket;
                c.Counts![slot] = delta;
            }
            // Kept until one whole window after its newest sub-bucket.
            c.ExpiresAtMs = Math.Max(c.ExpiresAtMs, (bucket + Slots + 1) * spec.Period);
            return 0;
        }
        c.Value = Math.Max(0, c.Value + delta);
        c.ExpiresAtMs = spec.Period > 0 ? spec.Period + 3_600_000 : long.MaxValue;
        return c.Value;
    }

    private static long[] Fill(long[] indexes)
    {
        Array.Fill(indexes, -1);
        return indexes;
    }

    private static long SlidingSum(Counter c, long current)
    {
        long sum = 0;
        for (var s = 0; s < Slots; s++)
        {
            var ix = c.Indexes![s];
            if (ix >= current - LimitCounters.Buckets && ix <= current)
            {
                sum += c.Counts![s];
            }
        }
        return sum;
    }

    private static long CountAt(Counter c, long bucket)
    {
        var slot = (int)(bucket % Slots);
        return c.Indexes![slot] == bucket ? c.Counts![slot] : 0;
    }

    private void Sweep(long nowMs)
    {
        // Once a minute: counters of subjects that went quiet (and past budget periods) must not pile up.
        if (nowMs - _lastSweepMs < 60_000)
        {
            return;
        }
        _lastSweepMs = nowMs;
        List<string>? expired = null;
        foreach (var (key, c) in _counters)
        {
            if (c.ExpiresAtMs < nowMs)
            {
                (expired ??= []).Add(key);
            }
        }
        foreach (var key in expired ?? [])
        {
            _counters.Remove(key);
        }
    }
}
