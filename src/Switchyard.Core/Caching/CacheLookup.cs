using Microsoft.Extensions.Logging;

namespace Switchyard.Core.Caching;

/// <summary>One leaf's cache decision: its status, the lookup, and the wrapper that stores the answer.</summary>
public sealed class CacheLookup
{
    public static readonly CacheLookup Disabled = new();

    private readonly ResponseCache? _cache;
    private readonly string _key = "";
    private readonly byte[] _scope = [];
    private readonly byte[] _body = [];
    private readonly TimeSpan _ttl;
    private readonly bool _refresh;
    private readonly bool _semantic;
    private readonly ReadOnlyMemory<byte> _streamMarker;
    private SemanticProbe? _probe;

    private CacheLookup()
    {
        Status = CacheStatus.Disabled;
    }

    internal CacheLookup(ResponseCache cache, string key, byte[] scope, byte[] body, TimeSpan ttl, bool refresh, bool semantic, ReadOnlyMemory<byte> streamMarker)
    {
        _cache = cache;
        _key = key;
        _scope = scope;
        _body = body;
        _ttl = ttl;
        _refresh = refresh;
        _semantic = semantic;
        _streamMarker = streamMarker;
        Status = refresh ? CacheStatus.Refresh : CacheStatus.Miss;
    }

    /// <summary>The <c>x-portkey-cache-status</c> this leaf reports.</summary>
    public string Status { get; private set; }

    public bool IsEnabled => _cache is not null;

    /// <summary>The exact key (hex digest with the store prefix).</summary>
    public string Key => _key;

    /// <summary>A stored answer, or null (miss, refresh, disabled, or the store unavailable).</summary>
    public async ValueTask<HttpResponseMessage?> TryHitAsync(CancellationToken ct)
    {
        if (_cache is null)
        {
            return null;
        }
        if (_refresh)
        {
            _cache.Count(Status);
            if (_semantic)
            {
                _probe = await _cache.Semantic!.PrepareAsync(_cache, _scope, _body, ct).ConfigureAwait(false);
            }
            return null;
        }
        if (await _cache.Store.GetAsync(_key, ct).ConfigureAwait(false) is { } bytes && CachedResponse.FromBytes(bytes) is { } hit)
        {
            Status = CacheStatus.Hit;
            _cache.Count(Status);
            return hit.ToResponse();
        }
        if (_semantic)
        {
            _probe = await _cache.Semantic!.PrepareAsync(_cache, _scope, _body, ct).ConfigureAwait(false);
            if (_probe is not null && await _cache.Semantic.FindAsync(_cache, _probe, ct).ConfigureAwait(false) is { } similar)
            {
                Status = CacheStatus.SemanticHit;
                _cache.Count(Status);
                return similar.ToResponse();
            }
            Status = _probe is null ? CacheStatus.Miss : CacheStatus.SemanticMiss;
        }
        _cache.Count(Status);
        return null;
    }

    private async Task WriteAsync(ResponseCache cache, string contentType, byte[] body)
    {
        try
        {
            var entry = new CachedResponse(contentType, cache.Time.GetUtcNow(), body);
            await cache.Store.SetAsync(_key, entry.ToBytes(), _ttl, CancellationToken.None).ConfigureAwait(false);
            cache.Wrote();
            if (_probe is not null)
            {
                await cache.Semantic!.AddAsync(cache, _probe, _key, _ttl, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // The fail-safe store already counts failures; this only keeps a background write from going unobserved.
            cache.Logger.LogDebug(ex, "Cache write for {Key} failed", _key);
        }
    }

    /// <summary>Wraps a successful response so that, once the client has read all of it, it is stored.</summary>
    public HttpResponseMessage StoreOnCompletion(HttpResponseMessage response)
    {
        if (_cache is null || response.StatusCode != System.Net.HttpStatusCode.OK || response.Content.Headers.ContentEncoding.Count > 0
            || response.Content.Headers.ContentType?.MediaType is not { } mediaType)
        {
            return response;
        }
        var isStream = mediaType == "text/event-stream";
        if (!isStream && mediaType != "application/json")
        {
            return response;
        }
        var contentType = response.Content.Headers.ContentType.ToString();
        var cache = _cache;
        var content = new CachingContent(response.Content, cache.MaxEntryBytes, isStream ? _streamMarker : ReadOnlyMemory<byte>.Empty, async body =>
        {
            var write = WriteAsync(cache, contentType, body);
            // The answer's last byte waits for the write, so the next identical request finds it; but never longer than a
            // lookup may take, and not at all while the store is failing: a slow store must not slow answers down.
            if (cache.Store.Problem is null)
            {
                try
                {
                    await write.WaitAsync(cache.WriteWait, cache.Time).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // The write goes on in the background within the store's own write bound.
                }
            }
        });
        foreach (var (name, values) in response.Content.Headers.NonValidated)
        {
            content.Headers.TryAddWithoutValidation(name, values);
        }
        response.Content = content;
        return response;
    }
}
