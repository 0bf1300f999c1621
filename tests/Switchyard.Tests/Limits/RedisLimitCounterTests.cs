using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using Switchyard.Core.Limits;
using Switchyard.Core.Usage.Pricing;
using Switchyard.Tests.Redis;
using Xunit;

namespace Switchyard.Tests.Limits;

/// <summary>The Redis counters on a real redis-server and on a three-node cluster: the same arithmetic, atomic across replicas, and the local fallback.</summary>
public sealed class RedisLimitCounterTests(RedisClusterFixture cluster) : IClassFixture<RedisClusterFixture>
{
    private static readonly long T0 = new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    internal static async Task<ConnectionMultiplexer> ConnectAsync(params int[] ports)
    {
        var options = new ConfigurationOptions { AbortOnConnectFail = false, ConnectTimeout = 2_000, AsyncTimeout = 1_000, SyncTimeout = 1_000 };
        foreach (var port in ports)
        {
            options.EndPoints.Add("127.0.0.1", port);
        }
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    private static RedisLimitCounterStore Store(ConnectionMultiplexer mux) =>
        new(_ => Task.FromResult(mux.GetDatabase()), TimeSpan.FromSeconds(2), TimeProvider.System);

    private static CounterSpec PerMinute(string key, long limit) => new(key, true, limit, LimitCounters.BucketMs(LimitWindow.Minute));

    [Fact]
    public async Task The_script_counts_like_the_memory_store_sliding_windows_budgets_and_settlements()
    {
        await using var server = await RedisServer.StartAsync();
        await using var mux = await ConnectAsync(server.Port);
        var redis = Store(mux);
        var memory = new MemoryLimitCounterStore();
        var random = new Random(7);
        var tag = "{sylim:key:same-" + Guid.NewGuid().ToString("N") + "}:";
        CounterSpec[] specs = [PerMinute(tag + "r", 40), PerMinute(tag + "t", 5_000), new(tag + "b", false, 20_000, T0 + 86_400_000)];
        var now = T0;
        for (var i = 0; i < 400; i++)
        {
            now += random.Next(0, 900);
            long[] amounts = [1, random.Next(1, 400), random.Next(0, 200)];
            var a = await redis.ReserveAsync(specs, amounts, now, true, CancellationToken.None);
            var b = await memory.ReserveAsync(specs, amounts, now, true, CancellationToken.None);
            Assert.Equal(b.RefusedIndex, a.RefusedIndex);
            Assert.Equal(b.RetryAfterMs, a.RetryAfterMs);
            Assert.Equal(b.Used, a.Used);
            if (a.Admitted && i % 3 == 0)
            {
                long[] deltas = [0, -random.Next(0, (int)amounts[1]), random.Next(-50, 50)];
                long[] buckets = [0, LimitCounters.Bucket(now, specs[1].Period), 0];
                Assert.Equal(await memory.AdjustAsync(specs, deltas, buckets, CancellationToken.None), await redis.AdjustAsync(specs, deltas, buckets, CancellationToken.None));
            }
        }
    }

    [Fact]
    public async Task Two_replicas_reserving_concurrently_admit_exactly_the_limit()
    {
        await using var server = await RedisServer.StartAsync();
        await using var first = await ConnectAsync(server.Port);
        await using var second = await ConnectAsync(server.Port);
        RedisLimitCounterStore[] replicas = [Store(first), Store(second)];
        var spec = PerMinute("{sylim:team:race}:r:requests:minute", 50);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var attempts = Enumerable.Range(0, 300).Select(i => Task.Run(async () =>
            (await replicas[i % 2].ReserveAsync([spec], [1], now, true, CancellationToken.None)).Admitted));
        var admitted = (await Task.WhenAll(attempts)).Count(a => a);
        Assert.Equal(50, admitted);
    }

    [Fact]
    public async Task In_cluster_mode_each_subjects_counters_share_one_slot_and_subjects_spread_over_nodes()
    {
        await using var mux = await ConnectAsync(cluster.Cluster.Nodes.Select(n => n.Port).ToArray());
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        // A patient bound: the test machine is shared, and a slow answer here would read as an outage.
        using var limiter = new UsageLimiter(new LimitOptions { RedisTimeout = TimeSpan.FromSeconds(3) }, _ => Task.FromResult(mux.GetDatabase()), _ => null, PriceTable.Default, time, NullLogger.Instance);
        var owners = new HashSet<int>();
        for (var k = 0; k < 12; k++)
        {
            var name = "cluster-" + k + "-" + Guid.NewGuid().ToString("N")[..6];
            var key = UsageLimiterTests.Key(name, null, UsageLimiterTests.Rate(LimitUnit.Requests, 2), UsageLimiterTests.Rate(LimitUnit.Tokens, 100_000),
                UsageLimiterTests.Budget(LimitUnit.Tokens, 1_000_000, LimitWindow.Day));
            Assert.Null(await limiter.AdmitAsync(UsageLimiterTests.Context(time, key), CancellationToken.None));
            Assert.Null(await limiter.AdmitAsync(UsageLimiterTests.Context(time, key), CancellationToken.None));
            Assert.NotNull(await limiter.AdmitAsync(UsageLimiterTests.Context(time, key), CancellationToken.None));
            Assert.Equal("redis", limiter.State);
            owners.Add(await cluster.Cluster.OwnerOfAsync("switchyard:{sylim:key:" + name + "}:r:requests:minute"));
        }
        Assert.DoesNotContain(-1, owners);
        Assert.True(owners.Count > 1, "twelve subjects all landed on one node");
    }

    [Fact]
    public async Task While_redis_is_down_each_replica_enforces_its_share_and_when_it_returns_the_outage_spend_reaches_redis()
    {
        await using var server = await RedisServer.StartAsync();
        await using var mux = await ConnectAsync(server.Port);
        var options = new LimitOptions { Replicas = 2, RedisTimeout = TimeSpan.FromSeconds(1), RedisRetryInterval = TimeSpan.FromMilliseconds(100) };
        using var limiter = new UsageLimiter(options, _ => Task.FromResult(mux.GetDatabase()), _ => null, PriceTable.Default, TimeProvider.System, NullLogger.Instance);
        var name = "down-" + Guid.NewGuid().ToString("N")[..6];
        var key = UsageLimiterTests.Key(name, null, UsageLimiterTests.Rate(LimitUnit.Requests, 10, LimitWindow.Hour),
            UsageLimiterTests.Budget(LimitUnit.Tokens, 100_000, LimitWindow.Total));
        var subject = new LimitSubject(LimitSubjectKind.Key, name);
        var context = UsageLimiterTests.Context(TimeProvider.System, key, maxTokens: 10);
        Assert.Null(await limiter.AdmitAsync(context, CancellationToken.None));
        context.ReportUsage(new Core.Usage.TokenUsage(100, 100, 200, 0, 0), null);
        limiter.Settle(context);
        await Eventually(async () => (await limiter.StatusAsync(subject, CancellationToken.None))[1].Used == 200);
        Assert.Equal("redis", limiter.State);

        await server.StopAsync();
        // Ten per hour across two replicas: this one admits its share of five (its local window starts empty).
        var admitted = 0;
        for (var i = 0; i < 10; i++)
        {
            var c = UsageLimiterTests.Context(TimeProvider.System, key, maxTokens: 10);
            if (await limiter.AdmitAsync(c, CancellationToken.None) is null)
            {
                admitted++;
                c.ReportUsage(new Core.Usage.TokenUsage(50, 50, 100, 0, 0), null);
                limiter.Settle(c);
            }
        }
        Assert.Equal(5, admitted);
        Assert.Equal("degraded", limiter.State);
        Assert.NotNull(limiter.Problem);
        var status = await limiter.StatusAsync(subject, CancellationToken.None);
        Assert.Equal("local", status[1].Source);
        // The budget's local share started from half of what Redis last said (200 / 2) plus what was spent here.
        Assert.Equal(100 + 5 * 100, status[1].Used);

        await server.RestartAsync(); // an empty server: what it knew is gone, but the outage spend is added back
        await Eventually(async () =>
        {
            await Task.Delay(150);
            await limiter.AdmitAsync(UsageLimiterTests.Context(TimeProvider.System, key, maxTokens: 0, text: ""), CancellationToken.None);
            return limiter.State == "redis";
        });
        await Eventually(async () => (await limiter.StatusAsync(subject, CancellationToken.None)) is [_, { Source: "redis", Used: >= 500m }]);
    }

    internal static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true within 15 s");
            await Task.Delay(50);
        }
    }
}
