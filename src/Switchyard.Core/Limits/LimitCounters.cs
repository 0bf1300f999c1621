namespace Switchyard.Core.Limits;

/// <summary>
/// One counter of one rule, as a store sees it. A rate limit is a sliding window of <see cref="LimitCounters.Buckets"/> + 1
/// sub-buckets of <see cref="Period"/> ms each; a budget is one number per calendar period (the period is part of the key)
/// that expires at <see cref="Period"/> (ms since the epoch; 0 never).
/// </summary>
/// <param name="Key">The counter's key; every counter of one subject shares one Redis hash tag.</param>
/// <param name="Limit">Requests, tokens, or cost in nano-USD.</param>
public readonly record struct CounterSpec(string Key, bool Sliding, long Limit, long Period);

/// <summary>The answer to a reservation: admitted, or which counter refused and when it would admit.</summary>
/// <param name="RefusedIndex">-1 when admitted.</param>
/// <param name="RetryAfterMs">For a refusal: ms until the refusing counter has room; -1 when it never will (the amount exceeds the limit, or a total budget).</param>
/// <param name="Used">Each counter's usage before this reservation.</param>
public readonly record struct CounterResult(int RefusedIndex, long RetryAfterMs, long[] Used)
{
    public bool Admitted => RefusedIndex < 0;
}

/// <summary>Where limit counters live: in this process, or in Redis shared by every replica.</summary>
public interface ILimitCounterStore
{
    /// <summary>
    /// Checks every counter of one subject and, when all have room for their amount, adds the amounts, atomically: either all
    /// are reserved or none. With <paramref name="apply"/> false it only reads (the admin API).
    /// </summary>
    ValueTask<CounterResult> ReserveAsync(CounterSpec[] specs, long[] amounts, long nowMs, bool apply, CancellationToken ct);

    /// <summary>
    /// Adds <paramref name="deltas"/> (negative releases) to the sub-bucket or period a reservation went to; never below zero.
    /// <paramref name="buckets"/> holds each sliding counter's sub-bucket index (ignored for budgets). Returns each counter's value after.
    /// </summary>
    ValueTask<long[]> AdjustAsync(CounterSpec[] specs, long[] deltas, long[] buckets, CancellationToken ct);
}

/// <summary>The arithmetic both stores share (the Redis scripts do the same in Lua).</summary>
public static class LimitCounters
{
    /// <summary>A window is split into this many sub-buckets; one more is counted, so the count always covers a whole window.</summary>
    public const int Buckets = 20;

    /// <summary>A nano-dollar: budgets in US dollars are counted as whole nano-dollars.</summary>
    public const decimal NanosPerUsd = 1_000_000_000m;

    public static long WindowMs(LimitWindow window) => window switch
    {
        LimitWindow.Second => 1_000,
        LimitWindow.Minute => 60_000,
        LimitWindow.Hour => 3_600_000,
        _ => 86_400_000,
    };

    /// <summary>Sub-bucket width: 50 ms for a second, 3 s for a minute, 3 min for an hour, 72 min for a day.</summary>
    public static long BucketMs(LimitWindow window) => WindowMs(window) / Buckets;

    public static long Bucket(long nowMs, long bucketMs) => nowMs / bucketMs;

    public static long Nanos(decimal usd) => usd <= 0 ? 0 : (long)Math.Ceiling(Math.Min(usd, 9_000_000m) * NanosPerUsd);

    public static decimal Usd(long nanos) => nanos / NanosPerUsd;

    /// <summary>Whether <paramref name="amount"/> does not fit: more than the limit, or (for a zero amount) nothing left.</summary>
    public static bool Refuses(long used, long amount, long limit) => amount > 0 ? used + amount > limit : used >= limit;

    /// <summary>The budget period containing <paramref name="now"/> (UTC calendar; weeks start on Monday) and when it ends.</summary>
    public static (string Id, DateTimeOffset? End) Period(LimitWindow window, DateTimeOffset now)
    {
        var day = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        switch (window)
        {
            case LimitWindow.Day:
                return (day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), day.AddDays(1));
            case LimitWindow.Week:
                var monday = day.AddDays(-(((int)day.DayOfWeek + 6) % 7));
                return ("w" + monday.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), monday.AddDays(7));
            case LimitWindow.Month:
                var first = new DateTimeOffset(day.Year, day.Month, 1, 0, 0, 0, TimeSpan.Zero);
                return (first.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture), first.AddMonths(1));
            default:
                return ("total", null);
        }
    }

    /// <summary>
    /// For a refused sliding counter: ms until enough of its oldest sub-buckets have left the window for <paramref name="amount"/>
    /// to fit; -1 when the amount alone is over the limit.
    /// </summary>
    public static long SlidingRetryAfter(Func<long, long> countAt, long current, long nowMs, long bucketMs, long used, long amount, long limit)
    {
        if (amount > limit)
        {
            return -1;
        }
        var deficit = used + Math.Max(amount, 1) - limit;
        long freed = 0;
        for (var j = current - Buckets; j <= current; j++)
        {
            freed += countAt(j);
            if (freed >= deficit)
            {
                // Sub-bucket j is counted while the current one is at most j + Buckets.
                return (j + Buckets + 1) * bucketMs - nowMs;
            }
        }
        return (Buckets + 1) * bucketMs;
    }
}
