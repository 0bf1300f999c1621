using System.Numerics.Tensors;

namespace Switchyard.Core.Caching.Semantic;

/// <summary>In-memory nearest-prompt search for the semantic cache: buckets keyed by context, brute-force SIMD dot products, bounded size.</summary>
/// <remarks>
/// A bucket holds the prompts whose context (model, parameters, earlier turns, provider, tenant) is identical, so a
/// search only compares last user messages that could share an answer. Brute force over normalised vectors is exact
/// and fast enough for the sizes a gateway holds (about 3 ms for 10k × 384 on one core). When the total passes
/// <c>maxEntries</c> the oldest entry overall is dropped; expired entries are skipped at once and removed on the next
/// write to their bucket. Readers run concurrently; writers take the lock alone.
/// </remarks>
public sealed class VectorIndex
{
    private readonly int _maxEntries;
    private readonly Func<string, string, bool> _guard;
    private readonly TimeProvider _time;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly Queue<Held> _arrivals = new();
    private int _count;

    /// <summary>An index holding at most <paramref name="maxEntries"/> entries. <paramref name="guard"/> vetoes candidates
    /// (query text, cached text); it defaults to <see cref="SemanticGuard.Agrees"/>.</summary>
    public VectorIndex(int maxEntries = 100_000, Func<string, string, bool>? guard = null, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        _maxEntries = maxEntries;
        _guard = guard ?? SemanticGuard.Agrees;
        // The system clock only for indexes built outside the engine (tests); SemanticMatcher passes the engine's.
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Entries held now, in all buckets.</summary>
    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _count;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>How many entries were appended to <paramref name="bucket"/> since the index started holding it, including
    /// ones already expired on arrival or evicted since; a caller mirroring a shared append-only list reads from this
    /// position on. Only when an emptied bucket is forgotten (there are more buckets than the entry bound) does it count
    /// from 0 again, and the caller re-reads it.</summary>
    public int CountIn(string bucket)
    {
        _lock.EnterReadLock();
        try
        {
            return _buckets.TryGetValue(bucket, out var b) ? b.Appended : 0;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Appends <paramref name="entry"/> to <paramref name="bucket"/>, evicting the oldest entries overall beyond the bound.</summary>
    public void Add(string bucket, VectorEntry entry)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        ArgumentNullException.ThrowIfNull(entry);
        var now = _time.GetUtcNow();
        _lock.EnterWriteLock();
        try
        {
            if (!_buckets.TryGetValue(bucket, out var b))
            {
                _buckets[bucket] = b = new Bucket(bucket);
            }

            b.Appended++;
            PurgeExpired(b, now);
            if (entry.ExpiresAt <= now)
            {
                ForgetIfEmpty(b);
                return;
            }

            var held = new Held(b, entry);
            b.Entries.Add(held);
            _arrivals.Enqueue(held);
            _count++;
            while (_count > _maxEntries && _arrivals.TryDequeue(out var oldest))
            {
                // The queue may still name entries a purge already removed; those are skipped. The oldest entry of a
                // bucket sits at its front, so Remove finds it at once.
                if (!oldest.Removed)
                {
                    oldest.Bucket.Entries.Remove(oldest);
                    oldest.Removed = true;
                    _count--;
                    ForgetIfEmpty(oldest.Bucket);
                }
            }

            TrimArrivals();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Forgets <paramref name="bucket"/> and its position (the shared list it mirrors was recreated).</summary>
    public void Reset(string bucket)
    {
        _lock.EnterWriteLock();
        try
        {
            if (_buckets.Remove(bucket, out var b))
            {
                foreach (var held in b.Entries)
                {
                    held.MarkRemoved();
                }
                _count -= b.Entries.Count;
                b.Entries.Clear();
                TrimArrivals();
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Removes every entry of <paramref name="bucket"/> that answers with <paramref name="entryKey"/> (its response is gone); returns how many.</summary>
    public int Remove(string bucket, string entryKey)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_buckets.TryGetValue(bucket, out var b))
            {
                return 0;
            }

            var removed = b.Entries.RemoveAll(h => h.Entry.EntryKey == entryKey && h.MarkRemoved());
            _count -= removed;
            ForgetIfEmpty(b);
            TrimArrivals();
            return removed;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>The most similar live entry in <paramref name="bucket"/> whose similarity is at least <paramref name="threshold"/>
    /// and that the guard accepts for <paramref name="queryText"/>; null when there is none.</summary>
    public VectorMatch? FindBest(string bucket, ReadOnlySpan<float> query, double threshold, string queryText, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        ArgumentNullException.ThrowIfNull(queryText);
        List<VectorMatch>? candidates = null;
        _lock.EnterReadLock();
        try
        {
            if (!_buckets.TryGetValue(bucket, out var b))
            {
                return null;
            }

            foreach (var held in b.Entries)
            {
                var entry = held.Entry;
                if (entry.ExpiresAt <= now || entry.Vector.Length != query.Length)
                {
                    continue;
                }

                double similarity = TensorPrimitives.Dot(entry.Vector, query);
                if (similarity >= threshold)
                {
                    (candidates ??= []).Add(new VectorMatch(entry, similarity));
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }

        if (candidates is null)
        {
            return null;
        }

        // The guard is the slow part, so it runs outside the lock and only on candidates, best first.
        candidates.Sort((x, y) => y.Similarity.CompareTo(x.Similarity));
        foreach (var candidate in candidates)
        {
            if (_guard(queryText, candidate.Entry.Text))
            {
                return candidate;
            }
        }

        return null;
    }

    private void PurgeExpired(Bucket b, DateTimeOffset now)
    {
        var removed = b.Entries.RemoveAll(h => h.Entry.ExpiresAt <= now && h.MarkRemoved());
        _count -= removed;
    }

    /// <summary>Drops an emptied bucket once there are more buckets than the entry bound; until then it is kept so its
    /// <see cref="CountIn"/> position survives, which keeps the number of buckets within about twice the bound.</summary>
    private void ForgetIfEmpty(Bucket b)
    {
        if (b.Entries.Count == 0 && _buckets.Count > _maxEntries && _buckets.TryGetValue(b.Name, out var held) && ReferenceEquals(held, b))
        {
            _buckets.Remove(b.Name);
        }
    }

    /// <summary>Keeps the arrival queue from growing with entries that purges and removals already dropped.</summary>
    private void TrimArrivals()
    {
        if (_arrivals.Count <= (2 * _count) + 64)
        {
            return;
        }

        var live = _arrivals.Where(a => !a.Removed).ToArray();
        _arrivals.Clear();
        foreach (var item in live)
        {
            _arrivals.Enqueue(item);
        }
    }

    private sealed class Bucket(string name)
    {
        public string Name { get; } = name;

        public List<Held> Entries { get; } = [];

        public int Appended { get; set; }
    }

    /// <summary>An entry as held in one bucket; <see cref="Removed"/> lets the arrival queue skip what is already gone.</summary>
    private sealed class Held(Bucket bucket, VectorEntry entry)
    {
        public Bucket Bucket { get; } = bucket;

        public VectorEntry Entry { get; } = entry;

        public bool Removed { get; set; }

        public bool MarkRemoved()
        {
            Removed = true;
            return true;
        }
    }
}
