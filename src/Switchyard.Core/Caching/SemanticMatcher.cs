using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Caching.Semantic;

namespace Switchyard.Core.Caching;

/// <summary>
/// Semantic lookups for the response cache. Vectors live in the cache store, one list per exact context (everything
/// but the last user message), so every replica sees every other's answers; this process keeps an in-memory index of
/// the lists it has read and fetches only the items appended since.
/// </summary>
public sealed class SemanticMatcher
{
    private readonly VectorIndex _index;
    // Syncing a bucket reads from the position the index has and appends what follows: one reader per bucket at a
    // time (striped), or two would append the same items twice.
    private readonly SemaphoreSlim[] _syncLocks = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly TimeSpan _embedTimeout;
    private long _embedErrors;

    private static readonly VectorEntry Unusable = new([], "", "unusable", DateTimeOffset.MinValue);

    public SemanticMatcher(IEmbedder embedder, double? threshold = null, TimeSpan? embedTimeout = null, int maxVectors = 100_000, TimeProvider? time = null)
    {
        Embedder = embedder;
        Threshold = threshold ?? embedder.DefaultThreshold;
        _embedTimeout = embedTimeout ?? TimeSpan.FromSeconds(2);
        _index = new VectorIndex(maxVectors, time: time);
    }

    public IEmbedder Embedder { get; }

    public double Threshold { get; }

    /// <summary>Embedding calls that failed or timed out (the request then goes on without the semantic lookup).</summary>
    public long EmbedErrors => Interlocked.Read(ref _embedErrors);

    /// <summary>The request's context bucket, last user message and its vector; null when the request is not eligible or embedding failed.</summary>
    internal async ValueTask<SemanticProbe?> PrepareAsync(ResponseCache cache, byte[] scope, byte[] canonicalBody, CancellationToken ct)
    {
        if (JsonNode.Parse(canonicalBody) is not JsonObject body || SemanticQuery.TryCreate(body) is not { } query)
        {
            return null;
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_embedTimeout);
            var vector = await Embedder.EmbedAsync(query.Text, timeout.Token).AsTask().WaitAsync(_embedTimeout, cache.Time, ct).ConfigureAwait(false);
            return new SemanticProbe(ResponseCacheKey.SemanticBucket(cache.Prefix, scope, Embedder.Name + "\n" + query.ContextJson), query.Text, vector);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _embedErrors);
            cache.Logger.LogWarning("Semantic cache: embedding with {Embedder} failed, looking up exact matches only: {Reason}", Embedder.Name, ex.Message);
            return null;
        }
    }

    internal async ValueTask<CachedResponse?> FindAsync(ResponseCache cache, SemanticProbe probe, CancellationToken ct)
    {
        await SyncAsync(cache, probe.Bucket, probe.Vector.Length, ct).ConfigureAwait(false);
        var now = cache.Time.GetUtcNow();
        if (_index.FindBest(probe.Bucket, probe.Vector, Threshold, probe.Text, now) is not { } match)
        {
            return null;
        }
        return await cache.Store.GetAsync(match.Entry.EntryKey, ct).ConfigureAwait(false) is { } bytes ? CachedResponse.FromBytes(bytes) : null;
    }

    internal async ValueTask AddAsync(ResponseCache cache, SemanticProbe probe, string entryKey, TimeSpan ttl, CancellationToken ct)
    {
        var entry = new VectorEntry(probe.Vector, probe.Text, entryKey, cache.Time.GetUtcNow() + ttl);
        await cache.Store.AppendAsync(probe.Bucket, entry.ToBytes(), ttl, ResponseCache.MaxVectorsPerBucket, ct).ConfigureAwait(false);
    }

    private async ValueTask SyncAsync(ResponseCache cache, string bucket, int dimensions, CancellationToken ct)
    {
        var gate = _syncLocks[(uint)StringComparer.Ordinal.GetHashCode(bucket) % (uint)_syncLocks.Length];
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var seen = _index.CountIn(bucket);
            var read = await cache.Store.ReadListAsync(bucket, seen, ct).ConfigureAwait(false);
            if (read.Start != seen)
            {
                // The list was recreated (expired, or the store restarted): start this bucket over.
                _index.Reset(bucket);
            }
            foreach (var item in read.Items)
            {
                VectorEntry? entry;
                try
                {
                    entry = VectorEntry.FromBytes(item);
                }
                catch (FormatException)
                {
                    entry = null; // Written by another version or something else sharing the store.
                }
                // An unusable item is still counted (as an expired placeholder), so the position stays that of the list.
                _index.Add(bucket, entry is not null && entry.Vector.Length == dimensions ? entry : Unusable);
            }
        }
        finally
        {
            gate.Release();
        }
    }
}

/// <summary>What a semantic lookup computed, kept to index the answer if it is stored.</summary>
internal sealed record SemanticProbe(string Bucket, string Text, float[] Vector);
