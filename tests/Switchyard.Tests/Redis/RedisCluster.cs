using System.Diagnostics;
using System.Globalization;

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
                var admin = cluster.Admin(i);
                while (!(await admin.RunAsync("CLUSTER", "INFO")).Contains("cluster_state:ok", StringComparison.Ordinal))
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

    /// <summary>Commands to one node only (redis-cli without -c follows no redirect).</summary>
    internal RedisCli Admin(int node) => new(Nodes[node].Port);

    public Task<string> IdOfAsync(int node) => Admin(node).RunAsync("CLUSTER", "MYID");

    /// <summary>The hash slot of <paramref name="key"/>, as the server computes it.</summary>
    public Task<string> SlotOfAsync(string key) => Admin(0).RunAsync("CLUSTER", "KEYSLOT", key);

    /// <summary>Index of the node that holds <paramref name="key"/> now.</summary>
    public async Task<int> OwnerOfAsync(string key)
    {
        for (var i = 0; i < Nodes.Count; i++)
        {
            // KEYS answers from the node's own data without redirecting (EXISTS on another node says MOVED).
            if ((await Admin(i).ItemsAsync("KEYS", key)).Length == 1)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Moves the slot of <paramref name="key"/> with its keys from node <paramref name="from"/> to node <paramref name="to"/> (a live resharding step).</summary>
    public async Task MoveSlotAsync(string key, int from, int to)
    {
        var slot = await SlotOfAsync(key);
        await BeginMoveAsync(slot, from, to);
        foreach (var k in await Admin(from).ItemsAsync("CLUSTER", "GETKEYSINSLOT", slot, "1000"))
        {
            await Admin(from).RunAsync("MIGRATE", "127.0.0.1", Nodes[to].Port.ToString(CultureInfo.InvariantCulture), k, "0", "5000");
        }
        await EndMoveAsync(slot, to);
    }

    /// <summary>The first step of a slot move: the target imports, the source migrates (it answers ASK for keys it no longer has).</summary>
    public async Task BeginMoveAsync(string slot, int from, int to)
    {
        await Admin(to).RunAsync("CLUSTER", "SETSLOT", slot, "IMPORTING", await IdOfAsync(from));
        await Admin(from).RunAsync("CLUSTER", "SETSLOT", slot, "MIGRATING", await IdOfAsync(to));
    }

    /// <summary>The last step: every node assigns the slot to the target (the source answers MOVED from then on).</summary>
    public async Task EndMoveAsync(string slot, int to)
    {
        var targetId = await IdOfAsync(to);
        for (var i = 0; i < Nodes.Count; i++)
        {
            await Admin(i).RunAsync("CLUSTER", "SETSLOT", slot, "NODE", targetId);
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
