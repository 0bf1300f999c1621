using System.Globalization;
using StackExchange.Redis;
using Switchyard.Core.Redis;

namespace Switchyard.Core.Caching;

/// <summary>
/// The cache store on Redis, Valkey or a managed flavour (Memorystore, ElastiCache, Azure Cache), standalone or
/// cluster, over the engine's shared <see cref="RedisConnection"/>. Entries are plain strings with PX expiry; semantic
/// vectors are lists appended and read by Lua scripts so each operation is one round trip and atomic.
/// </summary>
/// <remarks>The connection belongs to the engine, which closes it; the store holds no resources of its own.</remarks>
public sealed class RedisCacheStore(RedisConnection redis) : ICacheStore
{
    // Append unless full, then refresh the expiry; returns the length.
    private const string AppendScript = """
        local n = redis.call('LLEN', KEYS[1])
        if n < tonumber(ARGV[3]) then n = redis.call('RPUSH', KEYS[1], ARGV[1]) end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return n
        """;

    // Items from ARGV[1] on, or all of them when the list is shorter than that (it was recreated); the start comes first.
    private const string ReadFromScript = """
        local n = redis.call('LLEN', KEYS[1])
        local s = tonumber(ARGV[1])
        if n < s then s = 0 end
        local items = redis.call('LRANGE', KEYS[1], s, -1)
        table.insert(items, 1, tostring(s))
        return items
        """;

    public string Kind => "redis";

    public RedisConnection Connection => redis;

    public string? Problem => redis.Problem;

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken ct)
    {
        var value = await redis.RunAsync(db => db.StringGetAsync(key), ct).ConfigureAwait(false);
        return value.IsNull ? null : (byte[]?)value;
    }

    public async ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan ttl, CancellationToken ct) =>
        // A copy: a write abandoned at the fail-safe timeout may still sit in the client's queue after the caller's buffer is reused.
        await redis.RunAsync(db => db.StringSetAsync(key, value.ToArray(), ttl), ct).ConfigureAwait(false);

    public async ValueTask DeleteAsync(string key, CancellationToken ct) =>
        await redis.RunAsync(db => db.KeyDeleteAsync(key), ct).ConfigureAwait(false);

    public async ValueTask<long> AppendAsync(string key, ReadOnlyMemory<byte> item, TimeSpan ttl, int maxLength, CancellationToken ct)
    {
        var reply = await redis.EvaluateAsync(AppendScript, [key], [item.ToArray(), (long)ttl.TotalMilliseconds, maxLength], ct).ConfigureAwait(false);
        return (long)reply;
    }

    public async ValueTask<ListRead> ReadListAsync(string key, int start, CancellationToken ct)
    {
        var reply = await redis.EvaluateAsync(ReadFromScript, [key], [start], ct).ConfigureAwait(false);
        if (reply.IsNull || (RedisResult[]?)reply is not { Length: > 0 } items)
        {
            return ListRead.Empty;
        }
        var from = int.Parse((string?)items[0] ?? "0", CultureInfo.InvariantCulture);
        var list = new byte[items.Length - 1][];
        for (var i = 1; i < items.Length; i++)
        {
            list[i - 1] = (byte[]?)items[i] ?? [];
        }
        return new ListRead(from, list);
    }
}
