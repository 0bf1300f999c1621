namespace Switchyard.Redis;

/// <summary>Which node owns each of the 16384 hash slots, as last read from CLUSTER SLOTS (single MOVED updates patch it in place).</summary>
internal sealed class ClusterSlotMap
{
    private readonly RedisNode?[] _owners;

    public ClusterSlotMap(RedisNode?[] owners, IReadOnlyList<RedisNode> nodes)
    {
        _owners = owners;
        Nodes = nodes;
    }

    /// <summary>The primaries that own at least one slot.</summary>
    public IReadOnlyList<RedisNode> Nodes { get; }

    public RedisNode? OwnerOf(int slot) => Volatile.Read(ref _owners[slot]);

    /// <summary>Records a MOVED reply: reference writes are atomic, so readers see the old or the new owner.</summary>
    public void Move(int slot, RedisNode owner) => Volatile.Write(ref _owners[slot], owner);

    /// <summary>Parses a CLUSTER SLOTS reply: [start, end, [host, port, id, …], replicas…] per range; replicas are not used.</summary>
    public static ClusterSlotMap Parse(RespValue reply, string askedHost, Func<string, int, RedisNode> node)
    {
        if (reply.Items is not { Count: > 0 } ranges)
        {
            throw new RedisConnectionException("CLUSTER SLOTS returned no slot ranges (is the cluster still being created?)");
        }
        var owners = new RedisNode?[ClusterKeySlot.SlotCount];
        var nodes = new List<RedisNode>();
        foreach (var range in ranges)
        {
            if (range.Items is not { Count: >= 3 } parts || parts[2].Items is not { Count: >= 2 } primary)
            {
                throw new RedisConnectionException("CLUSTER SLOTS returned a range in an unexpected shape");
            }
            var start = (int)parts[0].Integer;
            var end = (int)parts[1].Integer;
            // An empty or '?' host means "the address you reached me on" (cluster-preferred-endpoint-type unknown-endpoint).
            var host = primary[0].Text;
            if (string.IsNullOrEmpty(host) || host == "?")
            {
                host = askedHost;
            }
            var owner = node(host, (int)primary[1].Integer);
            if (!nodes.Contains(owner))
            {
                nodes.Add(owner);
            }
            for (var slot = Math.Max(0, start); slot <= Math.Min(end, ClusterKeySlot.SlotCount - 1); slot++)
            {
                owners[slot] = owner;
            }
        }
        return new ClusterSlotMap(owners, nodes);
    }
}
