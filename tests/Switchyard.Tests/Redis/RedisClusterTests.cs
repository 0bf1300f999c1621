using StackExchange.Redis;
using Switchyard.Core.Redis;
using Xunit;

namespace Switchyard.Tests.Redis;

/// <summary>Starts one three-node cluster for all cluster tests; each test uses its own keys and slots.</summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    internal RedisCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await RedisCluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>RedisConnection in cluster mode against a real three-node Redis Cluster: routing, ASK and MOVED during a slot migration, scripts.</summary>
public sealed class RedisClusterTests(RedisClusterFixture fixture) : IClassFixture<RedisClusterFixture>
{
    private RedisCluster Cluster => fixture.Cluster;

    private RedisConnection Connect() => new(new RedisOptions
    {
        Endpoints = [("127.0.0.1", Cluster.Nodes[1].Port)], // any one seed is enough to discover the rest
        Cluster = true,
    });

    [Fact]
    public async Task Keys_land_on_their_slot_owners_across_all_three_nodes_from_one_seed()
    {
        await using var redis = Connect();
        var keys = Enumerable.Range(0, 300).Select(i => "spread:" + i).ToArray();
        await Task.WhenAll(keys.Select(k => redis.RunAsync(db => db.StringSetAsync(k, "v-" + k, TimeSpan.FromMinutes(5)), default)));
        var values = await Task.WhenAll(keys.Select(k => redis.RunAsync(db => db.StringGetAsync(k), default)));
        Assert.Equal(keys.Select(k => "v-" + k), values.Select(v => (string?)v));
        var perNode = new int[3];
        for (var i = 0; i < 3; i++)
        {
            // KEYS on one node lists only what that node holds.
            perNode[i] = (await Cluster.Admin(i).ItemsAsync("KEYS", "spread:*")).Length;
        }
        Assert.Equal(300, perNode.Sum());
        Assert.All(perNode, count => Assert.True(count > 50));
        Assert.True(await redis.RunAsync(db => db.KeyDeleteAsync(keys[0]), default));
        await redis.PingAsync();
        Assert.True(redis.IsConnected);
        Assert.Null(redis.Problem);
    }

    [Fact]
    public async Task A_slot_migration_is_followed_through_ask_while_migrating_and_moved_afterwards()
    {
        await using var redis = Connect();
        const string key = "migrating:{slot-move}";
        const string sibling = "migrating:{slot-move}:new";
        await redis.RunAsync(db => db.StringSetAsync(key, "before-move"), default);
        var source = await Cluster.OwnerOfAsync(key);
        var target = (source + 1) % 3;
        var slot = await Cluster.SlotOfAsync(key);

        await Cluster.BeginMoveAsync(slot, source, target);
        await Cluster.Admin(source).RunAsync("MIGRATE", "127.0.0.1", Cluster.Nodes[target].Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "", "0", "5000", "KEYS", key);
        var ask = await Assert.ThrowsAsync<RedisCliException>(() => Cluster.Admin(source).RunAsync("GET", key));
        Assert.StartsWith("ASK", ask.Reply, StringComparison.Ordinal);

        // Mid-migration: the source answers ASK for the moved key and for a new one in the slot.
        Assert.Equal("before-move", (string?)await redis.RunAsync(db => db.StringGetAsync(key), default));
        await redis.RunAsync(db => db.StringSetAsync(sibling, "written-mid-migration"), default);
        Assert.Equal("written-mid-migration", (string?)await redis.RunAsync(db => db.StringGetAsync(sibling), default));

        await Cluster.EndMoveAsync(slot, target);
        var moved = await Assert.ThrowsAsync<RedisCliException>(() => Cluster.Admin(source).RunAsync("GET", key));
        Assert.StartsWith("MOVED", moved.Reply, StringComparison.Ordinal);

        // After: MOVED is followed, and writes reach the new owner.
        Assert.Equal("before-move", (string?)await redis.RunAsync(db => db.StringGetAsync(key), default));
        await redis.RunAsync(db => db.StringSetAsync(key, "after-move"), default);
        Assert.Equal("after-move", await Cluster.Admin(target).RunAsync("GET", key));
        Assert.Equal("written-mid-migration", await Cluster.Admin(target).RunAsync("GET", sibling));
        Assert.Equal(target, await Cluster.OwnerOfAsync(key));
        Assert.Null(redis.Problem);
    }

    [Fact]
    public async Task A_script_with_several_keys_sharing_a_hash_tag_runs_atomically_on_their_node_even_after_noscript()
    {
        await using var redis = Connect();
        // The shape of a rate-limit script: two counters of one caller, updated together.
        const string script = """
            local a = redis.call('INCRBY', KEYS[1], ARGV[1])
            local b = redis.call('INCRBY', KEYS[2], ARGV[1])
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            redis.call('PEXPIRE', KEYS[2], ARGV[2])
            return {a, b}
            """;
        RedisKey[] keys = ["limit:{team-a}:minute", "limit:{team-a}:day"];
        for (var i = 0; i < 3; i++)
        {
            await Cluster.Admin(i).RunAsync("SCRIPT", "FLUSH");
        }
        var first = (long[])(await redis.EvaluateAsync(script, keys, [5, 60_000], default))!;
        Assert.Equal([5L, 5L], first);
        var owner = await Cluster.OwnerOfAsync("limit:{team-a}:minute");
        Assert.Equal(owner, await Cluster.OwnerOfAsync("limit:{team-a}:day"));

        // The owner forgets its scripts (a restart, a failover): the next call still runs.
        await Cluster.Admin(owner).RunAsync("SCRIPT", "FLUSH");
        var second = (long[])(await redis.EvaluateAsync(script, keys, [2, 60_000], default))!;
        Assert.Equal([7L, 7L], second);
        Assert.Equal("7", await Cluster.Admin(owner).RunAsync("GET", "limit:{team-a}:day"));

        // Keys in different slots cannot run in one script on a cluster: refused before reaching a server.
        await Assert.ThrowsAsync<RedisCommandException>(() => redis.EvaluateAsync(script, ["limit:{team-a}:minute", "limit:{team-b}:day"], [1, 60_000], default));
        Assert.Equal("7", await Cluster.Admin(owner).RunAsync("GET", "limit:{team-a}:minute"));
    }
}
