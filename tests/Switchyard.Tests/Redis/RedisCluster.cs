using System.Diagnostics;
using System.Globalization;
using Switchyard.Redis;

namespace Switchyard.Tests.Redis;

/// <summary>A real three-primary Redis Cluster on 127.0.0.1 (three redis-server processes joined by redis-cli --cluster create).</summary>
internal sealed class RedisCluster : IAsyncDisposable
{
    private RedisCluster(RedisServer[] nodes) => Nodes = nodes;

    public IReadOnlyList<RedisServer> Nodes { get; }

    public static async Task<RedisCluster> StartAsync()
    {
        var nodes = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => RedisServer.StartAsync(
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
            "--cluster-port", RedisServer.FreePort().ToString(CultureInfo.InvariantCulture))));
        var cluster = new RedisCluster(nodes);
        try
        {
            var create = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in (string[])["--cluster", "create", .. nodes.Select(n => "127.0.0.1:" + n.Port), "--cluster-replicas", "0", "--cluster-yes"])
            {
                create.ArgumentList.Add(arg);
            }
            using (var process = Process.Start(create)!)
            {
                var output = process.StandardOutput.ReadToEndAsync();
                var errors = process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                if (process.ExitCode != 0)
                {
                    throw new InvalidOperationException("redis-cli --cluster create failed: " + await output + await errors);
                }
            }
            var deadline = DateTime.UtcNow.AddSeconds(20);
            for (var i = 0; i < nodes.Length; i++)
            {
                await using var admin = await cluster.AdminAsync(i);
                while (!(await admin.ExecuteAsync(["CLUSTER", "INFO"])).Text!.Contains("cluster_state:ok", StringComparison.Ordinal))
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new TimeoutException("the test cluster did not reach cluster_state:ok");
                    }
                    await Task.Delay(50);
                }
            }
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    internal Task<RedisConnection> AdminAsync(int node) =>
        RedisConnection.ConnectAsync(new RedisEndpoint("127.0.0.1", Nodes[node].Port));

    public async Task<string> IdOfAsync(int node)
    {
        await using var admin = await AdminAsync(node);
        return (await admin.ExecuteAsync(["CLUSTER", "MYID"])).Text!;
    }

    /// <summary>Index of the node that holds <paramref name="key"/> now.</summary>
    public async Task<int> OwnerOfAsync(string key)
    {
        for (var i = 0; i < Nodes.Count; i++)
        {
            await using var admin = await AdminAsync(i);
            // KEYS answers from the node's own data without redirecting (EXISTS on another node says MOVED).
            if ((await admin.ExecuteAsync(["KEYS", key])).Items is { Count: 1 })
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Moves the slot of <paramref name="key"/> with its keys from node <paramref name="from"/> to node <paramref name="to"/> (a live resharding step).</summary>
    public async Task MoveSlotAsync(string key, int from, int to)
    {
        var slot = ClusterKeySlot.Of(key).ToString(CultureInfo.InvariantCulture);
        await using var source = await AdminAsync(from);
        await using var target = await AdminAsync(to);
        var sourceId = await IdOfAsync(from);
        var targetId = await IdOfAsync(to);
        await target.ExecuteAsync(["CLUSTER", "SETSLOT", slot, "IMPORTING", sourceId]);
        await source.ExecuteAsync(["CLUSTER", "SETSLOT", slot, "MIGRATING", targetId]);
        var keys = await source.ExecuteAsync(["CLUSTER", "GETKEYSINSLOT", slot, "1000"]);
        foreach (var k in keys.Items!)
        {
            await source.ExecuteAsync(["MIGRATE", "127.0.0.1", Nodes[to].Port.ToString(CultureInfo.InvariantCulture), k.Text!, "0", "5000"]);
        }
        for (var i = 0; i < Nodes.Count; i++)
        {
            await using var admin = await AdminAsync(i);
            await admin.ExecuteAsync(["CLUSTER", "SETSLOT", slot, "NODE", targetId]);
        }
    }

    public int IndexOf(string hostPort) => Nodes.ToList().FindIndex(n => "127.0.0.1:" + n.Port == hostPort);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }
    }
}
