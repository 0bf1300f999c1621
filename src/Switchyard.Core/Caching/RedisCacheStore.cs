using System.Globalization;
using System.Text;
using Switchyard.Redis;

namespace Switchyard.Core.Caching;

/// <summary>
/// The cache store on Redis, Valkey or a managed flavour (Memorystore, ElastiCache, Azure Cache), standalone or
/// cluster. Entries are plain strings with PX expiry; semantic vectors are lists appended and read by Lua scripts so
/// each operation is one round trip and atomic.
/// </summary>
public sealed class RedisCacheStore(RedisClient client) : ICacheStore, IAsyncDisposable
{
    // Append unless full, then refresh the expiry; returns the length.
    private static readonly RedisScript Append = new("""
        local n = redis.call('LLEN', KEYS[1])
        if n < tonumber(ARGV[3]) then n = redis.call('RPUSH', KEYS[1], ARGV[1]) end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return n
        """);

    // Items from ARGV[1] on, or all of them when the list is shorter than that (it was recreated); the start comes first.
    private static readonly RedisScript ReadFrom = new("""
        local n = redis.call('LLEN', KEYS[1])
        local s = tonumber(ARGV[1])
        if n < s then s = 0 end
        local items = redis.call('LRANGE', KEYS[1], s, -1)
        table.insert(items, 1, tostring(s))
        return items
        """);

    public string Kind => "redis";

    public RedisClient Client => client;

    public string? Problem => client.LastError;

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken ct) => await client.GetAsync(key, ct).ConfigureAwait(false);

    public async ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan ttl, CancellationToken ct) =>
        await client.SetAsync(key, value, ttl, ct).ConfigureAwait(false);

    public async ValueTask DeleteAsync(string key, CancellationToken ct) => await client.DeleteAsync(key, ct).ConfigureAwait(false);

    public async ValueTask<long> AppendAsync(string key, ReadOnlyMemory<byte> item, TimeSpan ttl, int maxLength, CancellationToken ct)
    {
        var reply = await client.EvalAsync(Append, [key], [item, Number((long)ttl.TotalMilliseconds), Number(maxLength)], ct).ConfigureAwait(false);
        return reply.Integer;
    }

    public async ValueTask<ListRead> ReadListAsync(string key, int start, CancellationToken ct)
    {
        var reply = await client.EvalAsync(ReadFrom, [key], [Number(start)], ct).ConfigureAwait(false);
        if (reply.Items is not { Count: > 0 } items)
        {
            return ListRead.Empty;
        }
        var from = int.Parse(items[0].Text ?? "0", CultureInfo.InvariantCulture);
        var list = new byte[items.Count - 1][];
        for (var i = 1; i < items.Count; i++)
        {
            list[i - 1] = items[i].Bytes ?? [];
        }
        return new ListRead(from, list);
    }

    public ValueTask DisposeAsync() => client.DisposeAsync();

    private static ReadOnlyMemory<byte> Number(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));
}
