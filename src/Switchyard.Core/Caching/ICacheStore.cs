namespace Switchyard.Core.Caching;

/// <summary>A shared key/value store with expiry for cached responses and semantic-cache vectors (memory or Redis).</summary>
public interface ICacheStore
{
    /// <summary>What backs the store, for <c>/v1/health</c>: <c>memory</c> or <c>redis</c>.</summary>
    string Kind { get; }

    ValueTask<byte[]?> GetAsync(string key, CancellationToken ct);

    ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan ttl, CancellationToken ct);

    ValueTask DeleteAsync(string key, CancellationToken ct);

    /// <summary>
    /// Appends to the list at <paramref name="key"/> and extends its expiry to <paramref name="ttl"/>. A list already
    /// holding <paramref name="maxLength"/> items is left alone (items are never removed from the front, so a reader
    /// can continue from the count it has seen). Returns the list's length afterwards.
    /// </summary>
    ValueTask<long> AppendAsync(string key, ReadOnlyMemory<byte> item, TimeSpan ttl, int maxLength, CancellationToken ct);

    /// <summary>
    /// The list's items from index <paramref name="start"/> on. When the list is now shorter than <paramref name="start"/>
    /// (it expired or the store restarted and it was written again), all of it is returned from index 0.
    /// </summary>
    ValueTask<ListRead> ReadListAsync(string key, int start, CancellationToken ct);

    /// <summary>Null while the store is reachable, else why not (no secrets).</summary>
    string? Problem { get; }
}

/// <summary>Items of a list read from <see cref="Start"/> on.</summary>
public readonly record struct ListRead(int Start, IReadOnlyList<byte[]> Items)
{
    public static readonly ListRead Empty = new(0, []);
}
