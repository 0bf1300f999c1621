using System.Globalization;
using System.Text;
using Switchyard.Redis;
using Xunit;

namespace Switchyard.Tests.Redis;

/// <summary>Starts one three-node cluster for all cluster tests; each test uses its own keys and slots.</summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    internal RedisCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await RedisCluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>RedisClient in cluster mode against a real three-node Redis Cluster: slots, routing, ASK and MOVED during a slot migration, scripts.</summary>
public sealed class RedisClusterTests(RedisClusterFixture fixture) : IClassFixture<RedisClusterFixture>
{
    private RedisCluster Cluster => fixture.Cluster;

    private RedisClient NewClient() => new(new RedisClientOptions
    {
        Endpoints = [("127.0.0.1", Cluster.Nodes[1].Port)], // any one seed is enough to discover the rest
        Cluster = true,
    });

    [Fact]
    public async Task Key_slots_match_cluster_keyslot_for_plain_keys_hash_tags_and_their_edge_cases()
    {
        string[] edgeCases = ["", "{}", "{}a", "a{}", "{a}", "{a}{b}", "a{b", "a}b{c", "}{a}", "{{a}}", "{a", "user:{123}:profile",
            "user:{123}:settings", "clé", "日本語{タグ}", "{", "}", "foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}"];
        var keys = edgeCases.Concat(Enumerable.Range(0, 600).Select(i => "cache:v1:" + i.ToString("x", CultureInfo.InvariantCulture) + (i % 7 == 0 ? "{t" + i % 13 + "}" : ""))).ToArray();
        await using var admin = await Cluster.AdminAsync(0);
        var slots = await Task.WhenAll(keys.Select(k => admin.ExecuteAsync(["CLUSTER", "KEYSLOT", k])));
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.True(slots[i].Integer == ClusterKeySlot.Of(keys[i]), $"key '{keys[i]}': server says {slots[i].Integer}, client {ClusterKeySlot.Of(keys[i])}");
        }
        Assert.Equal(12182, ClusterKeySlot.Of("foo")); // the value in the Redis Cluster specification
    }

    [Fact]
    public async Task Keys_are_routed_to_their_slot_owners_across_all_three_nodes_from_one_seed()
    {
        await using var client = NewClient();
        var keys = Enumerable.Range(0, 300).Select(i => "spread:" + i).ToArray();
        await Task.WhenAll(keys.Select(k => client.SetAsync(k, Encoding.UTF8.GetBytes("v-" + k), TimeSpan.FromMinutes(5))));
        var values = await Task.WhenAll(keys.Select(k => client.GetAsync(k)));
        Assert.Equal(keys.Select(k => "v-" + k), values.Select(v => Encoding.UTF8.GetString(v!)));
        var perNode = new long[3];
        for (var i = 0; i < 3; i++)
        {
            await using var admin = await Cluster.AdminAsync(i);
            perNode[i] = keys.Count(k => Cluster.IndexOf(client.RouteOf(k)!) == i);
            foreach (var key in keys.Where(k => Cluster.IndexOf(client.RouteOf(k)!) == i).Take(20))
            {
                Assert.Equal(1, (await admin.ExecuteAsync(["EXISTS", key])).Integer); // the key really lives on the node the client routed it to
            }
        }
        Assert.All(perNode, count => Assert.True(count > 50));
        Assert.Equal(1, await client.DeleteAsync(keys[0]));
        await client.PingAsync();
        Assert.True(client.IsConnected);
        Assert.Null(client.LastError);
    }

    [Fact]
    public async Task A_slot_migration_is_followed_by_ask_while_migrating_and_by_moved_afterwards_with_the_map_updated()
    {
        await using var client = NewClient();
        const string key = "migrating:{slot-move}";
        const string sibling = "migrating:{slot-move}:new";
        var slot = ClusterKeySlot.Of(key).ToString(CultureInfo.InvariantCulture);
        await client.SetAsync(key, "before-move"u8.ToArray(), null);
        var source = Cluster.IndexOf(client.RouteOf(key)!);
        var target = (source + 1) % 3;
        var third = (source + 2) % 3;
        var sourceId = await Cluster.IdOfAsync(source);
        var targetId = await Cluster.IdOfAsync(target);
        await using var sourceAdmin = await Cluster.AdminAsync(source);
        await using var targetAdmin = await Cluster.AdminAsync(target);
        await using var thirdAdmin = await Cluster.AdminAsync(third);

        await targetAdmin.ExecuteAsync(["CLUSTER", "SETSLOT", slot, "IMPORTING", sourceId]);
        await sourceAdmin.ExecuteAsync(["CLUSTER", "SETSLOT", slot, "MIGRATING", targetId]);
        await sourceAdmin.ExecuteAsync(["MIGRATE", "127.0.0.1", Cluster.Nodes[target].Port.ToString(CultureInfo.InvariantCulture), "", "0", "5000", "KEYS", key]);
        Assert.Equal("ASK", (await Assert.ThrowsAsync<RedisServerException>(() => sourceAdmin.ExecuteAsync(["GET", key]))).Code);

        // Mid-migration: the source answers ASK, the client asks the target once and keeps the slot on the source.
        Assert.Equal("before-move"u8.ToArray(), await client.GetAsync(key));
        await client.SetAsync(sibling, "written-mid-migration"u8.ToArray(), null);
        Assert.Equal("written-mid-migration"u8.ToArray(), await client.GetAsync(sibling));
        Assert.Equal(source, Cluster.IndexOf(client.RouteOf(key)!));

        foreach (var admin in new[] { targetAdmin, sourceAdmin, thirdAdmin })
        {
            await admin.ExecuteAsync(["CLUSTER", "SETSLOT", slot, "NODE", targetId]);
        }
        Assert.Equal("MOVED", (await Assert.ThrowsAsync<RedisServerException>(() => sourceAdmin.ExecuteAsync(["GET", key]))).Code);

        // After: the source answers MOVED, the client follows it and routes the slot to the target from then on.
        Assert.Equal("before-move"u8.ToArray(), await client.GetAsync(key));
        Assert.Equal(target, Cluster.IndexOf(client.RouteOf(key)!));
        await client.SetAsync(key, "after-move"u8.ToArray(), null);
        Assert.Equal("after-move", (await targetAdmin.ExecuteAsync(["GET", key])).Text);
        Assert.Equal("written-mid-migration"u8.ToArray(), await client.GetAsync(sibling));
        Assert.Null(client.LastError);
    }

    [Fact]
    public async Task A_script_runs_on_the_node_owning_its_key_and_is_loaded_there_after_noscript()
    {
        await using var client = NewClient();
        var script = new RedisScript("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('STRLEN', KEYS[1])");
        for (var i = 0; i < 3; i++)
        {
            await using var admin = await Cluster.AdminAsync(i);
            await admin.ExecuteAsync(["SCRIPT", "FLUSH"]);
        }
        const string key = "lua:{cluster-script}";
        var reply = await client.EvalAsync(script, [key], ["hello"u8.ToArray()]);
        Assert.Equal(5, reply.Integer);
        Assert.Equal(6, (await client.EvalAsync(script, [key], ["hello!"u8.ToArray()])).Integer);
        Assert.Equal("hello!"u8.ToArray(), await client.GetAsync(key));
        var owner = Cluster.IndexOf(client.RouteOf(key)!);
        for (var i = 0; i < 3; i++)
        {
            await using var admin = await Cluster.AdminAsync(i);
            var exists = (await admin.ExecuteAsync(["SCRIPT", "EXISTS", script.Sha1])).Items![0].Integer;
            Assert.Equal(i == owner ? 1 : 0, exists);
        }
        var crossSlot = await Assert.ThrowsAsync<RedisServerException>(() => client.EvalAsync(script, ["{a}x", "{b}y"], ["v"u8.ToArray()]));
        Assert.Equal("CROSSSLOT", crossSlot.Code);
    }
}
