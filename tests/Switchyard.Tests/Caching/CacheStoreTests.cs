using System.Text;
using Switchyard.Core.Caching;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Caching;

/// <summary>The embedded memory store (bounded by bytes, LRU, expiry) and the fail-safe wrapper that keeps a failing store off the request path.</summary>
public sealed class CacheStoreTests
{
    private static byte[] Bytes(int n, byte fill = 1) => Enumerable.Repeat(fill, n).ToArray();

    [Fact]
    public async Task The_memory_store_stays_within_its_byte_budget_and_evicts_the_least_recently_used()
    {
        var store = new MemoryCacheStore(64 * 1024);
        var ttl = TimeSpan.FromHours(1);
        for (var i = 0; i < 10; i++)
        {
            await store.SetAsync("k" + i, Bytes(10_000), ttl, default);
            // k0 is read after every write, so it stays recent while the others age.
            Assert.NotNull(await store.GetAsync("k0", default));
        }

        Assert.True(store.Bytes <= store.MaxBytes, $"{store.Bytes} > {store.MaxBytes}");
        Assert.NotNull(await store.GetAsync("k0", default));
        Assert.Null(await store.GetAsync("k1", default));
        Assert.NotNull(await store.GetAsync("k9", default));
        Assert.True(store.Evictions >= 4);
        // An entry larger than the whole store is not kept (it would push everything else out).
        await store.SetAsync("huge", Bytes(100_000), ttl, default);
        Assert.Null(await store.GetAsync("huge", default));
        Assert.NotNull(await store.GetAsync("k9", default));
    }

    [Fact]
    public async Task Memory_entries_and_lists_expire_on_the_injected_clock()
    {
        var clock = new ManualClock();
        var store = new MemoryCacheStore(1 << 20, clock);
        await store.SetAsync("a", Encoding.UTF8.GetBytes("answer"), TimeSpan.FromSeconds(60), default);
        await store.AppendAsync("list", Bytes(3), TimeSpan.FromSeconds(60), 10, default);
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("answer", Encoding.UTF8.GetString((await store.GetAsync("a", default))!));
        Assert.Single((await store.ReadListAsync("list", 0, default)).Items);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(await store.GetAsync("a", default));
        Assert.Empty((await store.ReadListAsync("list", 0, default)).Items);
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task Lists_append_up_to_their_cap_and_restart_from_zero_when_recreated()
    {
        var store = new MemoryCacheStore(1 << 20);
        var ttl = TimeSpan.FromMinutes(5);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(Math.Min(i + 1, 3), await store.AppendAsync("l", new[] { (byte)i }, ttl, 3, default));
        }
        var tail = await store.ReadListAsync("l", 1, default);
        Assert.Equal(1, tail.Start);
        Assert.Equal([1, 2], tail.Items.Select(b => (int)b[0]));

        await store.DeleteAsync("l", default);
        await store.AppendAsync("l", new byte[] { 9 }, ttl, 3, default);
        // The reader had seen 3 items; the list now has 1, so it is read again from the start.
        var again = await store.ReadListAsync("l", 3, default);
        Assert.Equal(0, again.Start);
        Assert.Equal([9], again.Items.Select(b => (int)b[0]));
    }

    [Fact]
    public async Task A_failing_store_reads_as_a_miss_trips_after_three_failures_and_is_probed_again()
    {
        var inner = new ScriptedStore();
        var safe = new FailSafeCacheStore(inner, TimeSpan.FromMilliseconds(100), retryInterval: TimeSpan.FromMilliseconds(300));
        inner.Fail = true;

        for (var i = 0; i < FailSafeCacheStore.TripAfter; i++)
        {
            Assert.Null(await safe.GetAsync("k", default));
        }
        Assert.Equal(3, inner.Calls);
        Assert.NotNull(safe.Problem);
        Assert.Contains("connection refused", safe.Problem, StringComparison.Ordinal);

        // Tripped: the store is not asked again until the retry interval has passed.
        await safe.SetAsync("k", Bytes(1), TimeSpan.FromMinutes(1), default);
        Assert.Null(await safe.GetAsync("k", default));
        Assert.Equal(3, inner.Calls);
        Assert.Equal(2, safe.Skipped);

        inner.Fail = false;
        await Task.Delay(400);
        await safe.SetAsync("k", Bytes(1), TimeSpan.FromMinutes(1), default);
        Assert.NotNull(await safe.GetAsync("k", default));
        Assert.Null(safe.Problem);
        Assert.Equal(3, safe.Errors);
    }

    [Fact]
    public async Task A_store_that_does_not_answer_is_given_up_on_after_the_timeout()
    {
        var inner = new ScriptedStore { Hang = true };
        var safe = new FailSafeCacheStore(inner, TimeSpan.FromMilliseconds(50));
        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.Null(await safe.GetAsync("k", default));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5));
        Assert.Equal(1, safe.Timeouts);
        Assert.Contains("did not answer", safe.Problem, StringComparison.Ordinal);
    }

    /// <summary>A store that fails, hangs or works on command, wrapping a memory store.</summary>
    private sealed class ScriptedStore : ICacheStore
    {
        private readonly MemoryCacheStore _memory = new(1 << 20);

        public bool Fail { get; set; }

        public bool Hang { get; set; }

        public int Calls { get; private set; }

        public string Kind => "scripted";

        public string? Problem => null;

        private async ValueTask Gate(CancellationToken ct)
        {
            Calls++;
            if (Hang)
            {
                // Ignores ct on purpose: the wrapper must not depend on the client honouring cancellation.
                await Task.Delay(TimeSpan.FromSeconds(30), CancellationToken.None);
            }
            if (Fail)
            {
                throw new IOException("connection refused");
            }
        }

        public async ValueTask<byte[]?> GetAsync(string key, CancellationToken ct)
        {
            await Gate(ct);
            return await _memory.GetAsync(key, ct);
        }

        public async ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan ttl, CancellationToken ct)
        {
            await Gate(ct);
            await _memory.SetAsync(key, value, ttl, ct);
        }

        public async ValueTask DeleteAsync(string key, CancellationToken ct)
        {
            await Gate(ct);
            await _memory.DeleteAsync(key, ct);
        }

        public async ValueTask<long> AppendAsync(string key, ReadOnlyMemory<byte> item, TimeSpan ttl, int maxLength, CancellationToken ct)
        {
            await Gate(ct);
            return await _memory.AppendAsync(key, item, ttl, maxLength, ct);
        }

        public async ValueTask<ListRead> ReadListAsync(string key, int start, CancellationToken ct)
        {
            await Gate(ct);
            return await _memory.ReadListAsync(key, start, ct);
        }
    }
}
