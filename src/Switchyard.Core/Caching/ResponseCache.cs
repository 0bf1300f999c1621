using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Caching.Semantic;
using Switchyard.Core.Configs;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Caching;

/// <summary>
/// The response cache at a leaf target: looks up an answer before the provider is called and stores a successful one
/// after it has reached the client. Simple mode matches the canonical request exactly; semantic mode also accepts
/// an earlier answer whose context is identical and whose last user message means the same.
/// </summary>
public sealed class ResponseCache
{
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromDays(7);
    public static readonly TimeSpan MinTtl = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(90);

    /// <summary>Vectors kept per semantic bucket (one exact context); later answers are still cached exactly.</summary>
    public const int MaxVectorsPerBucket = 2000;

    private static readonly Meter Meter = new("Switchyard.Cache");
    private static readonly Counter<long> Lookups = Meter.CreateCounter<long>("switchyard.cache.lookups", description: "Response cache lookups by x-portkey-cache-status");

    private readonly string _prefix;
    private readonly int _maxEntryBytes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemanticMatcher? _semantic;

    public ResponseCache(ICacheStore store, TimeProvider time, ILogger logger, string prefix = "switchyard:", int maxEntryBytes = 4 << 20, SemanticMatcher? semantic = null)
    {
        Store = store;
        _time = time;
        _logger = logger;
        _prefix = prefix;
        _maxEntryBytes = maxEntryBytes;
        _semantic = semantic;
    }

    public ICacheStore Store { get; }

    public SemanticMatcher? Semantic => _semantic;

    /// <summary>Entries written since start (for health and tests).</summary>
    public long Writes => Interlocked.Read(ref _writes);

    private long _writes;

    /// <summary>TTL for a cache block: <c>max_age</c>, else the request's <c>Cache-Control: max-age</c>, else 7 days; clamped to [60 s, 90 days].</summary>
    public static TimeSpan Ttl(CacheSettings settings, IRequestHeaders headers)
    {
        long? seconds = settings.MaxAgeSeconds;
        if (seconds is null && headers.Get("cache-control") is { } control)
        {
            foreach (var directive in control.Split(',', StringSplitOptions.TrimEntries))
            {
                if (directive.StartsWith("max-age=", StringComparison.OrdinalIgnoreCase)
                    && long.TryParse(directive.AsSpan(8), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var s))
                {
                    seconds = s;
                }
            }
        }
        if (seconds is not { } value)
        {
            return DefaultTtl;
        }
        var ttl = TimeSpan.FromSeconds(Math.Min(value, (long)MaxTtl.TotalSeconds));
        return ttl < MinTtl ? MinTtl : ttl;
    }

    /// <summary>Endpoints whose answers may be cached (Portkey never caches files, batches, fine-tuning, audio or image edits).</summary>
    public static bool IsCacheable(EndpointKind endpoint) => endpoint is EndpointKind.ChatComplete or EndpointKind.Complete or EndpointKind.Embed
        or EndpointKind.Messages or EndpointKind.CreateModelResponse or EndpointKind.ImageGenerate or EndpointKind.Moderate or EndpointKind.Rerank;

    /// <summary>What the cache will do for this leaf; <see cref="CacheLookup.Disabled"/> when no cache block applies.</summary>
    public CacheLookup Begin(GatewayRequest request, ResolvedTarget target, ReadOnlyMemory<byte> body)
    {
        if (target.Settings.Cache is not { } settings || request.Method != "POST" || !IsCacheable(request.Endpoint))
        {
            return CacheLookup.Disabled;
        }
        var canonical = CanonicalJson.TryCanonicalize(body);
        if (canonical is null)
        {
            return CacheLookup.Disabled;
        }
        var scope = ResponseCacheKey.Scope(request, target);
        var refresh = string.Equals(request.Headers.Get("x-portkey-cache-force-refresh"), "true", StringComparison.OrdinalIgnoreCase);
        var semantic = settings.Mode == "semantic" && _semantic is not null
            && request.Endpoint is EndpointKind.ChatComplete or EndpointKind.Complete;
        return new CacheLookup(this, ResponseCacheKey.Exact(_prefix, scope, canonical), scope, canonical, Ttl(settings, request.Headers), refresh, semantic,
            CompleteMarker(request.Endpoint));
    }

    internal void Count(string status) => Lookups.Add(1, new KeyValuePair<string, object?>("status", status));

    internal string Prefix => _prefix;

    internal int MaxEntryBytes => _maxEntryBytes;

    internal TimeProvider Time => _time;

    internal ILogger Logger => _logger;

    internal void Wrote() => Interlocked.Increment(ref _writes);

    private static ReadOnlyMemory<byte> CompleteMarker(EndpointKind endpoint) => endpoint switch
    {
        EndpointKind.Messages => "event: message_stop"u8.ToArray(),
        EndpointKind.CreateModelResponse => "response.completed"u8.ToArray(),
        _ => "data: [DONE]"u8.ToArray(),
    };
}

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
            var entry = new CachedResponse(contentType, cache.Time.GetUtcNow(), body);
            await cache.Store.SetAsync(_key, entry.ToBytes(), _ttl, CancellationToken.None).ConfigureAwait(false);
            cache.Wrote();
            if (_probe is not null)
            {
                await cache.Semantic!.AddAsync(cache, _probe, _key, _ttl, CancellationToken.None).ConfigureAwait(false);
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
