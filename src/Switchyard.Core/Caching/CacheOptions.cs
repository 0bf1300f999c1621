using System.Globalization;
using static Switchyard.Core.EnvironmentValues;

namespace Switchyard.Core.Caching;

/// <summary>Cache store and semantic-cache settings, bound from the variables in docs/configuration.md (Portkey's names where they exist).</summary>
public sealed record CacheOptions
{
    /// <summary><c>memory</c> (embedded default), <c>redis</c> (any Redis-protocol store) or <c>none</c> (cache blocks are ignored: DISABLED).</summary>
    public string Store { get; init; } = "memory";

    /// <summary>The <c>CACHE_STORE</c> value as given (e.g. <c>gcp-memory-store</c>), shown in <c>/v1/health</c>.</summary>
    public string StoreName { get; init; } = "memory";

    /// <summary>Bytes the in-memory store may hold (<c>CACHE_MEMORY_MAX_MB</c>, default 256).</summary>
    public long MemoryMaxBytes { get; init; } = 256L << 20;

    /// <summary>Largest response stored (<c>CACHE_MAX_ENTRY_MB</c>, default 4); larger ones are served but not cached.</summary>
    public int MaxEntryBytes { get; init; } = 4 << 20;

    /// <summary>Longest a cache operation may hold a request (<c>CACHE_TIMEOUT_MS</c>, default 250); slower counts as unavailable.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Prefix of every key the gateway writes (<c>CACHE_KEY_PREFIX</c>), so a shared Redis can hold other data.</summary>
    public string KeyPrefix { get; init; } = "switchyard:";

    /// <summary><c>REDIS_URL</c> (<c>redis://</c> or <c>rediss://</c>), or built from <c>REDIS_HOST</c>/<c>REDIS_PORT</c>.</summary>
    public string? RedisUrl { get; init; }

    /// <summary><c>REDIS_MODE=cluster</c>.</summary>
    public bool RedisCluster { get; init; }

    /// <summary><c>REDIS_CLUSTER_ENDPOINTS</c>: static comma-separated <c>host:port</c> seed nodes for cluster mode.</summary>
    public IReadOnlyList<(string Host, int Port)> RedisClusterEndpoints { get; init; } = [];

    /// <summary><c>REDIS_TLS_ENABLED=true</c> (also implied by <c>rediss://</c>).</summary>
    public bool RedisTls { get; init; }

    /// <summary><c>REDIS_TLS_CERTS</c>: PEM file of the CA that signed the server's certificate (self-signed Memorystore).</summary>
    public string? RedisTlsCaFile { get; init; }

    public string? RedisUsername { get; init; }

    public string? RedisPassword { get; init; }

    /// <summary>
    /// <c>REDIS_CLIENT</c> as given: it chose between two Redis clients until StackExchange.Redis became the only one.
    /// Kept so the engine can warn that it no longer has an effect, rather than ignore it silently.
    /// </summary>
    public string? IgnoredRedisClient { get; init; }

    /// <summary><c>GCP_REDIS_AUTH_MODE=workload</c>: an IAM access token from the metadata server is the password.</summary>
    public bool GcpRedisWorkloadAuth { get; init; }

    /// <summary><c>SEMANTIC_CACHE_EMBEDDING_PROVIDER</c>: a provider slug for the embedding target; null for the built-in hashed n-gram embedder.</summary>
    public string? EmbeddingProvider { get; init; }

    /// <summary><c>SEMANTIC_CACHE_EMBEDDINGS_URL</c>: base URL of the embedding target (custom host), e.g. a local OpenAI-compatible server.</summary>
    public string? EmbeddingUrl { get; init; }

    /// <summary><c>SEMANTIC_CACHE_EMBEDDING_MODEL</c> (default <c>text-embedding-3-small</c>).</summary>
    public string EmbeddingModel { get; init; } = "text-embedding-3-small";

    /// <summary><c>SEMANTIC_CACHE_EMBEDDING_API_KEY</c>, else <c>OPENAI_API_KEY</c>.</summary>
    public string? EmbeddingApiKey { get; init; }

    /// <summary><c>SEMANTIC_CACHE_EMBEDDING_DIMENSIONS</c>: asked of the embedding target when set.</summary>
    public int? EmbeddingDimensions { get; init; }

    /// <summary><c>SEMANTIC_CACHE_SIMILARITY_THRESHOLD</c> (cosine, 0–1); null uses the embedder's calibrated default.</summary>
    public double? SimilarityThreshold { get; init; }

    /// <summary><c>SEMANTIC_CACHE_EMBEDDING_TIMEOUT_MS</c> (default 2000): past it the lookup goes on with exact matches only.</summary>
    public TimeSpan EmbeddingTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public static CacheOptions FromEnvironment(Func<string, string?> get)
    {
        var d = new CacheOptions();
        var storeRaw = NonEmpty(get("CACHE_STORE"));
        var url = NonEmpty(get("REDIS_URL"));
        if (url is null && NonEmpty(get("REDIS_HOST")) is { } host)
        {
            url = $"redis://{host}:{NonEmpty(get("REDIS_PORT")) ?? "6379"}";
        }
        var endpoints = ParseEndpoints(get("REDIS_CLUSTER_ENDPOINTS"));
        var store = (storeRaw?.ToLowerInvariant()) switch
        {
            null => url is not null || endpoints.Count > 0 ? "redis" : "memory",
            "memory" => "memory",
            "none" => "none",
            "redis" or "valkey" or "memory-store" or "gcp-memory-store" or "aws-elastic-cache" or "azure-redis" or "custom" => "redis",
            _ => throw new FormatException($"CACHE_STORE={storeRaw} is not known: use memory, none, redis, valkey, memory-store, gcp-memory-store, aws-elastic-cache, azure-redis or custom."),
        };
        if (store == "redis" && url is null && endpoints.Count == 0)
        {
            throw new FormatException($"CACHE_STORE={storeRaw ?? "redis"} needs REDIS_URL (redis://host:6379 or rediss://…), REDIS_HOST or REDIS_CLUSTER_ENDPOINTS.");
        }
        var mode = NonEmpty(get("REDIS_MODE"))?.ToLowerInvariant();
        if (mode is not (null or "standalone" or "cluster"))
        {
            throw new FormatException($"REDIS_MODE={mode} is not known: use standalone or cluster.");
        }
        foreach (var unsupported in (string[])["AWS_REDIS_AUTH_MODE", "AZURE_REDIS_AUTH_MODE"])
        {
            var v = NonEmpty(get(unsupported));
            if (v is not null && !(unsupported == "AZURE_REDIS_AUTH_MODE" && v.Equals("password", StringComparison.OrdinalIgnoreCase)))
            {
                throw new FormatException($"{unsupported}={v} is not available in this version of Switchyard: use REDIS_USERNAME/REDIS_PASSWORD (an access key or AUTH token).");
            }
        }
        var gcpAuth = NonEmpty(get("GCP_REDIS_AUTH_MODE"))?.ToLowerInvariant();
        if (gcpAuth is not (null or "workload"))
        {
            throw new FormatException($"GCP_REDIS_AUTH_MODE={gcpAuth} is not known: use workload (IAM token from the metadata server) or leave it unset.");
        }
        var threshold = NonEmpty(get("SEMANTIC_CACHE_SIMILARITY_THRESHOLD"));
        double? similarity = null;
        if (threshold is not null)
        {
            if (!double.TryParse(threshold, NumberStyles.Float, CultureInfo.InvariantCulture, out var t) || t is <= 0 or > 1)
            {
                throw new FormatException($"SEMANTIC_CACHE_SIMILARITY_THRESHOLD={threshold} is not valid: expected a number above 0 and at most 1, e.g. 0.95.");
            }
            similarity = t;
        }
        var provider = NonEmpty(get("SEMANTIC_CACHE_EMBEDDING_PROVIDER"))?.ToLowerInvariant();
        if (provider is "hashed" or "local" or "builtin")
        {
            provider = null;
        }
        return d with
        {
            Store = store,
            StoreName = storeRaw?.ToLowerInvariant() ?? store,
            MemoryMaxBytes = Int(get, "CACHE_MEMORY_MAX_MB", 256, 1, 1 << 20) * (1L << 20),
            MaxEntryBytes = Int(get, "CACHE_MAX_ENTRY_MB", 4, 1, 512) << 20,
            Timeout = TimeSpan.FromMilliseconds(Int(get, "CACHE_TIMEOUT_MS", 250, 1, 60_000)),
            KeyPrefix = get("CACHE_KEY_PREFIX") ?? d.KeyPrefix,
            RedisUrl = url,
            RedisCluster = mode == "cluster",
            RedisClusterEndpoints = endpoints,
            RedisTls = NonEmpty(get("REDIS_TLS_ENABLED"))?.ToLowerInvariant() is "true" or "1" or "yes",
            RedisTlsCaFile = NonEmpty(get("REDIS_TLS_CERTS")),
            RedisUsername = NonEmpty(get("REDIS_USERNAME")),
            RedisPassword = get("REDIS_PASSWORD") is { Length: > 0 } password ? password : null,
            GcpRedisWorkloadAuth = gcpAuth == "workload",
            IgnoredRedisClient = NonEmpty(get("REDIS_CLIENT")),
            EmbeddingProvider = provider,
            EmbeddingUrl = NonEmpty(get("SEMANTIC_CACHE_EMBEDDINGS_URL")),
            EmbeddingModel = NonEmpty(get("SEMANTIC_CACHE_EMBEDDING_MODEL")) ?? d.EmbeddingModel,
            EmbeddingApiKey = NonEmpty(get("SEMANTIC_CACHE_EMBEDDING_API_KEY")) ?? NonEmpty(get("OPENAI_API_KEY")),
            EmbeddingDimensions = NonEmpty(get("SEMANTIC_CACHE_EMBEDDING_DIMENSIONS")) is null ? null : Int(get, "SEMANTIC_CACHE_EMBEDDING_DIMENSIONS", 0, 1, 65_536),
            SimilarityThreshold = similarity,
            EmbeddingTimeout = TimeSpan.FromMilliseconds(Int(get, "SEMANTIC_CACHE_EMBEDDING_TIMEOUT_MS", 2000, 1, 600_000)),
        };
    }

    private static List<(string Host, int Port)> ParseEndpoints(string? raw)
    {
        var list = new List<(string, int)>();
        foreach (var item in (raw ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = item.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(item.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                throw new FormatException($"REDIS_CLUSTER_ENDPOINTS entry '{item}' is not valid: expected host:port.");
            }
            list.Add((item[..colon].Trim('[', ']'), port));
        }
        return list;
    }
}
