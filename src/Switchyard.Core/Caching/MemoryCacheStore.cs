namespace Switchyard.Core.Caching;

/// <summary>
/// The embedded default: an in-process store bounded by bytes with least-recently-used eviction. Expired entries
/// are dropped when touched and when space is needed. One lock: every operation is a few pointer moves.
/// </summary>
public sealed class MemoryCacheStore : ICacheStore
{
    // Per-entry bookkeeping (node, dictionary slot, key object) counted against the budget so many tiny entries cannot exceed it.
    private const int Overhead = 96;

    private readonly object _lock = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _lru = new();
    private readonly TimeProvider _time;
    private long _bytes;

    public MemoryCacheStore(long maxBytes, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1024);
        MaxBytes = maxBytes;
        // The system clock only for stores built outside the engine (tests); SwitchyardEngine passes its own.
        _time = time ?? TimeProvider.System;
    }

    public string Kind => "memory";

    public string? Problem => null;

    public long MaxBytes { get; }

    /// <summary>Bytes currently held, overhead included.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Entries evicted to make room (not counting expiry).</summary>
    public long Evictions { get; private set; }

    public ValueTask<byte[]?> GetAsync(string key, CancellationToken ct)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(Live(key)?.Value);
        }
    }

    public ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan ttl, CancellationToken ct)
    {
        var entry = new Entry(key, _time.GetUtcNow() + ttl) { Value = value.ToArray() };
        lock (_lock)
        {
            Remove(key);
            Insert(entry);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteAsync(string key, CancellationToken ct)
    {
        lock (_lock)
        {
            Remove(key);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<long> AppendAsync(string key, ReadOnlyMemory<byte> item, TimeSpan ttl, int maxLength, CancellationToken ct)
    {
        lock (_lock)
        {
            var entry = Live(key);
            if (entry?.Items is null)
            {
                Remove(key);
                entry = new Entry(key, _time.GetUtcNow() + ttl) { Items = [] };
                Insert(entry);
            }
            if (entry.Items!.Count < maxLength)
            {
                entry.Items.Add(item.ToArray());
                _bytes += item.Length;
                entry.Size += item.Length;
            }
            entry.ExpiresAt = _time.GetUtcNow() + ttl;
            var length = entry.Items.Count;
            Trim(except: entry);
            return ValueTask.FromResult((long)length);
        }
    }

    public ValueTask<ListRead> ReadListAsync(string key, int start, CancellationToken ct)
    {
        lock (_lock)
        {
            if (Live(key)?.Items is not { } items)
            {
                return ValueTask.FromResult(ListRead.Empty);
            }
            if (start > items.Count)
            {
                start = 0;
            }
            return ValueTask.FromResult(new ListRead(start, items.GetRange(start, items.Count - start)));
        }
    }

    private Entry? Live(string key)
    {
        if (!_entries.TryGetValue(key, out var node))
        {
            return null;
        }
        if (node.Value.ExpiresAt <= _time.GetUtcNow())
        {
            Unlink(node);
            return null;
        }
        _lru.Remove(node);
        _lru.AddFirst(node);
        return node.Value;
    }

    private void Insert(Entry entry)
    {
        entry.Size = Overhead + entry.Key.Length * 2 + (entry.Value?.Length ?? 0);
        if (entry.Size > MaxBytes)
        {
            return; // Larger than the whole store: keeping it would evict everything else.
        }
        _entries[entry.Key] = _lru.AddFirst(entry);
        _bytes += entry.Size;
        Trim(except: entry);
    }

    private void Trim(Entry except)
    {
        var now = _time.GetUtcNow();
        var node = _lru.Last;
        while (_bytes > MaxBytes && node is not null)
        {
            var previous = node.Previous;
            if (!ReferenceEquals(node.Value, except))
            {
                if (node.Value.ExpiresAt > now)
                {
                    Evictions++;
                }
                Unlink(node);
            }
            node = previous;
        }
    }

    private void Remove(string key)
    {
        if (_entries.TryGetValue(key, out var node))
        {
            Unlink(node);
        }
    }

    private void Unlink(LinkedListNode<Entry> node)
    {
        _lru.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Size;
    }

    private sealed class Entry(string key, DateTimeOffset expiresAt)
    {
        public string Key { get; } = key;

        public DateTimeOffset ExpiresAt { get; set; } = expiresAt;

        public byte[]? Value { get; init; }

        public List<byte[]>? Items { get; init; }

        public long Size { get; set; }
    }
}
