using Switchyard.Core.Limits;
using Xunit;

namespace Switchyard.Tests.Limits;

/// <summary>The counting arithmetic on the in-process store: sliding windows, calendar periods, reserve and settle.</summary>
public sealed class LimitCounterTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static CounterSpec PerMinute(long limit, string key = "k") => new(key, true, limit, LimitCounters.BucketMs(LimitWindow.Minute));

    private static CounterResult Take(MemoryLimitCounterStore store, CounterSpec spec, long nowMs, long amount = 1) =>
        store.Reserve([spec], [amount], nowMs, apply: true);

    [Fact]
    public void A_full_window_refuses_until_its_oldest_sub_bucket_leaves_and_says_when()
    {
        var store = new MemoryLimitCounterStore();
        var spec = PerMinute(10);
        for (var i = 0; i < 10; i++)
        {
            Assert.True(Take(store, spec, T0 + i).Admitted);
        }
        var refused = Take(store, spec, T0 + 30_000);
        Assert.False(refused.Admitted);
        Assert.Equal(10, refused.Used[0]);
        // The ten sit in the sub-bucket starting at T0 (3 s wide); it is counted until the window has moved a whole minute past its end.
        Assert.Equal(63_000 - 30_000, refused.RetryAfterMs);
        Assert.False(Take(store, spec, T0 + 62_999).Admitted);
        Assert.True(Take(store, spec, T0 + 63_000).Admitted);
    }

    [Fact]
    public void No_boundary_doubling_a_burst_at_the_end_of_a_minute_blocks_the_start_of_the_next()
    {
        var store = new MemoryLimitCounterStore();
        var spec = PerMinute(10);
        // A fixed window aligned to the minute would admit 10 at 10:00:59 and 10 more at 10:01:01: 20 within 2 s.
        for (var i = 0; i < 10; i++)
        {
            Assert.True(Take(store, spec, T0 + 59_000).Admitted);
        }
        Assert.False(Take(store, spec, T0 + 61_000).Admitted);
        Assert.False(Take(store, spec, T0 + 118_000).Admitted);
        Assert.True(Take(store, spec, T0 + 120_000).Admitted);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Under_random_arrivals_no_window_of_a_minute_ever_holds_more_than_the_limit(int seed)
    {
        var random = new Random(seed);
        var store = new MemoryLimitCounterStore();
        var spec = PerMinute(25);
        var admitted = new List<long>();
        var now = T0;
        for (var i = 0; i < 5_000; i++)
        {
            now += random.Next(0, 1_500);
            if (Take(store, spec, now).Admitted)
            {
                admitted.Add(now);
            }
        }
        // Every window of 60 s starting at an admission holds at most 25 admissions.
        for (int i = 0, j = 0; i < admitted.Count; i++)
        {
            while (j < admitted.Count && admitted[j] < admitted[i] + 60_000)
            {
                j++;
            }
            Assert.True(j - i <= 25, $"{j - i} admitted within 60 s from {admitted[i] - T0} ms");
        }
        // And the limit is used: ~62 minutes of ~80 arrivals a minute admit close to 25 a minute (at worst 25 per 63 s).
        Assert.True(admitted.Count > 1_300, $"only {admitted.Count} admitted over {(now - T0) / 60_000} minutes");
    }

    [Fact]
    public void All_counters_of_a_subject_are_reserved_together_or_not_at_all()
    {
        var store = new MemoryLimitCounterStore();
        CounterSpec requests = PerMinute(100, "r"), tokens = PerMinute(1_000, "t");
        Assert.True(store.Reserve([requests, tokens], [1, 900], T0, true).Admitted);
        var refused = store.Reserve([requests, tokens], [1, 200], T0 + 1, true);
        Assert.Equal(1, refused.RefusedIndex);
        // The refused reservation added nothing to the requests counter either.
        var peek = store.Reserve([requests, tokens], [0, 0], T0 + 2, apply: false);
        Assert.Equal([1L, 900L], peek.Used);
    }

    [Fact]
    public void An_amount_larger_than_the_limit_is_refused_with_no_retry_time()
    {
        var store = new MemoryLimitCounterStore();
        var refused = Take(store, PerMinute(1_000), T0, 5_000);
        Assert.False(refused.Admitted);
        Assert.Equal(-1, refused.RetryAfterMs);
    }

    [Fact]
    public async Task Settling_corrects_the_sub_bucket_the_reservation_went_to_and_never_goes_below_zero()
    {
        var store = new MemoryLimitCounterStore();
        var spec = PerMinute(1_000);
        Assert.True(Take(store, spec, T0, 600).Admitted);
        var bucket = LimitCounters.Bucket(T0, spec.Period);
        // Actual use was 150: the 600 reserved become 150, freeing room for more.
        await store.AdjustAsync([spec], [-450], [bucket], CancellationToken.None);
        Assert.Equal(150, store.Reserve([spec], [0], T0 + 10_000, false).Used[0]);
        Assert.True(Take(store, spec, T0 + 10_000, 800).Admitted);
        await store.AdjustAsync([spec], [-5_000], [bucket], CancellationToken.None);
        Assert.Equal(800, store.Reserve([spec], [0], T0 + 10_000, false).Used[0]);
        // A settlement for a sub-bucket that already left the window changes nothing.
        await store.AdjustAsync([spec], [999], [bucket - 100], CancellationToken.None);
        Assert.Equal(800, store.Reserve([spec], [0], T0 + 10_000, false).Used[0]);
    }

    [Fact]
    public async Task A_budget_counts_until_its_period_ends_and_a_settlement_brings_it_to_actual_use()
    {
        var store = new MemoryLimitCounterStore();
        var (id, end) = LimitCounters.Period(LimitWindow.Month, DateTimeOffset.FromUnixTimeMilliseconds(T0));
        var budget = new CounterSpec("b:cost:month:" + id, false, LimitCounters.Nanos(1m), end!.Value.ToUnixTimeMilliseconds());
        Assert.True(store.Reserve([budget], [LimitCounters.Nanos(0.6m)], T0, true).Admitted);
        var refused = store.Reserve([budget], [LimitCounters.Nanos(0.6m)], T0 + 1, true);
        Assert.False(refused.Admitted);
        Assert.Equal(end.Value.ToUnixTimeMilliseconds() - (T0 + 1), refused.RetryAfterMs);
        await store.AdjustAsync([budget], [-LimitCounters.Nanos(0.5m)], [0], CancellationToken.None);
        Assert.Equal(LimitCounters.Nanos(0.1m), store.Reserve([budget], [0], T0 + 2, false).Used[0]);
        Assert.True(store.Reserve([budget], [LimitCounters.Nanos(0.6m)], T0 + 3, true).Admitted);
        // A zero reservation (a model without a price) is refused once nothing is left.
        await store.AdjustAsync([budget], [LimitCounters.Nanos(0.3m)], [0], CancellationToken.None);
        Assert.False(store.Reserve([budget], [0], T0 + 4, true).Admitted);
    }

    [Theory]
    [InlineData("2026-12-07T10:00:00Z", LimitWindow.Day, "2026-12-07", "2026-12-08T00:00:00Z")]
    [InlineData("2026-12-07T23:59:59Z", LimitWindow.Day, "2026-12-07", "2026-12-08T00:00:00Z")]
    [InlineData("2026-12-07T00:00:00Z", LimitWindow.Week, "w2026-12-07", "2026-12-14T00:00:00Z")] // a Monday
    [InlineData("2026-12-13T23:59:59Z", LimitWindow.Week, "w2026-12-07", "2026-12-14T00:00:00Z")] // the Sunday after
    [InlineData("2027-01-01T08:00:00Z", LimitWindow.Week, "w2026-12-28", "2027-01-04T00:00:00Z")] // a week across the new year
    [InlineData("2026-12-31T23:59:59Z", LimitWindow.Month, "2026-12", "2027-01-01T00:00:00Z")]
    [InlineData("2028-02-29T12:00:00Z", LimitWindow.Month, "2028-02", "2028-03-01T00:00:00Z")]
    public void Budget_periods_follow_the_UTC_calendar_with_weeks_from_monday(string now, LimitWindow window, string id, string end)
    {
        var (periodId, periodEnd) = LimitCounters.Period(window, DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(id, periodId);
        Assert.Equal(DateTimeOffset.Parse(end, System.Globalization.CultureInfo.InvariantCulture), periodEnd);
    }

    [Fact]
    public void A_total_budget_has_no_period_end()
    {
        Assert.Equal(("total", (DateTimeOffset?)null), LimitCounters.Period(LimitWindow.Total, DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void A_seeded_budget_starts_from_the_seed()
    {
        var store = new MemoryLimitCounterStore(key => key == "b" ? 70 : 0);
        var spec = new CounterSpec("b", false, 100, 0);
        Assert.False(store.Reserve([spec], [40], T0, true).Admitted);
        Assert.True(store.Reserve([spec], [30], T0, true).Admitted);
    }

    [Theory]
    [InlineData(20, "20ms")]
    [InlineData(1_500, "1.5s")]
    [InlineData(60_000, "1m0s")]
    [InlineData(3_723_000, "1h2m3s")]
    public void Reset_durations_use_openai_notation(long ms, string text) => Assert.Equal(text, UsageLimiter.Duration(ms));

    [Fact]
    public void Max_output_tokens_are_read_from_the_top_level_only()
    {
        Assert.Equal(77, UsageLimiter.MaxOutputTokens("""{"model":"m","messages":[{"max_tokens":5}],"max_tokens":77}"""u8));
        Assert.Equal(12, UsageLimiter.MaxOutputTokens("""{"max_completion_tokens":12}"""u8));
        Assert.Equal(9, UsageLimiter.MaxOutputTokens("""{"input":"x","max_output_tokens":9}"""u8));
        Assert.Null(UsageLimiter.MaxOutputTokens("""{"model":"m","messages":[{"max_tokens":5}]}"""u8));
    }
}
