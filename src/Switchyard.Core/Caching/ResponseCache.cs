using Microsoft.Extensions.Logging;
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

    internal void Count(string status) => CacheMetrics.Lookups.Add(1, new KeyValuePair<string, object?>("status", status));

    internal string Prefix => _prefix;

    internal int MaxEntryBytes => _maxEntryBytes;

    internal TimeProvider Time => _time;

    internal ILogger Logger => _logger;

    internal void Wrote() => Interlocked.Increment(ref _writes);

    /// <summary>How long the end of an answer may wait for its cache write: no longer than a lookup may take.</summary>
    internal TimeSpan WriteWait => (Store as FailSafeCacheStore)?.Timeout ?? TimeSpan.FromMilliseconds(250);

    private static ReadOnlyMemory<byte> CompleteMarker(EndpointKind endpoint) => endpoint switch
    {
        EndpointKind.Messages => "event: message_stop"u8.ToArray(),
        EndpointKind.CreateModelResponse => "response.completed"u8.ToArray(),
        _ => "data: [DONE]"u8.ToArray(),
    };
}
