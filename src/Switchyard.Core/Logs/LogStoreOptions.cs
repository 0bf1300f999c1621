using static Switchyard.Core.EnvironmentValues;

namespace Switchyard.Core.Logs;

/// <summary>Where request-log records go and how much disk they may take, bound from the variables in docs/configuration.md.</summary>
public sealed record LogStoreOptions
{
    /// <summary>Where request logs go (<c>LOG_STORE</c>): <c>local</c> (JSON lines in <see cref="Directory"/>, the default), <c>none</c>, or an object store (<c>s3</c>, <c>s3_assume</c>, <c>s3_custom</c>, <c>wasabi</c>, <c>netapp</c>, <c>gcs</c>, <c>gcs_assume</c>, <c>azure</c>).</summary>
    public string Store { get; init; } = "local";

    /// <summary>The base of every directory the gateway writes (<c>DATA_PATH</c>, default <c>./data</c>; <c>/tmp/switchyard</c> in the container image).</summary>
    public const string DefaultDataPath = "./data";

    /// <summary>Directory of the local log store (<c>LOG_STORE_LOCAL_PATH</c>, default <c>$DATA_PATH/logs</c>).</summary>
    public string Directory { get; init; } = "./data/logs";

    /// <summary>Size at which the local log rolls to a new file (<c>LOG_STORE_LOCAL_FILE_MB</c>, default 64).</summary>
    public long FileLimitBytes { get; init; } = 64L << 20;

    /// <summary>Total size of the local log directory; the oldest files are deleted beyond it (<c>LOG_STORE_LOCAL_MAX_MB</c>, default 1024).</summary>
    public long TotalLimitBytes { get; init; } = 1L << 30;

    /// <summary>Records that may wait for the log writer before new ones are dropped and counted (<c>LOG_QUEUE_CAPACITY</c>, default 10000).</summary>
    public int QueueCapacity { get; init; } = 10_000;

    /// <summary>Whether request and response bodies go into log records (<c>LOG_BODIES</c>, default true); a config's <c>logging.bodies</c> or <c>x-portkey-debug: false</c> can still turn them off per request.</summary>
    public bool LogBodies { get; init; } = true;

    /// <summary>The most bytes of each body a record holds (<c>LOG_BODY_MAX_BYTES</c>, default 262144); longer bodies are cut and marked <c>body_truncated</c>.</summary>
    public int MaxBodyBytes { get; init; } = 256 * 1024;

    /// <summary>Request headers copied into each record's metadata (<c>HEADERS_TO_METADATA</c>, comma-separated).</summary>
    public IReadOnlyList<string> HeadersToMetadata { get; init; } = [];

    /// <summary>Serve <c>GET /v1/logs/{id}</c> (<c>LOG_LOOKUP_ENABLED</c>, default false): anyone who can reach the gateway could read records until gateway keys exist.</summary>
    public bool LookupEnabled { get; init; }

    /// <summary>The bucket or container when <see cref="Store"/> is an object-store kind (<c>LOG_STORE_*</c>, <c>AWS_*</c>, <c>AZURE_*</c>; docs/log-stores.md).</summary>
    public Stores.LogObjectStoreOptions Objects { get; init; } = new();

    /// <summary>How records reach an object store: writers, retries, circuit breaker, spill directory (docs/log-delivery.md).</summary>
    public Delivery.LogDeliveryOptions Delivery { get; init; } = new();

    /// <summary>True when records go to a bucket or container rather than the local files.</summary>
    public bool IsObjectStore => Stores.LogObjectStoreOptions.Kinds.Contains(Store);

    public static LogStoreOptions FromEnvironment(Func<string, string?> get)
    {
        var d = new LogStoreOptions();
        return d with
        {
            Store = ParseStore(get("LOG_STORE")) ?? d.Store,
            Directory = NonEmpty(get("LOG_STORE_LOCAL_PATH")) ?? UnderDataPath(get, "logs"),
            QueueCapacity = Int(get, "LOG_QUEUE_CAPACITY", d.QueueCapacity, 1, 10_000_000),
            FileLimitBytes = Int(get, "LOG_STORE_LOCAL_FILE_MB", 64, 1, 1 << 20) * (1L << 20),
            TotalLimitBytes = Int(get, "LOG_STORE_LOCAL_MAX_MB", 1024, 1, 1 << 30) * (1L << 20),
            LogBodies = Bool(get, "LOG_BODIES", d.LogBodies),
            MaxBodyBytes = Int(get, "LOG_BODY_MAX_BYTES", d.MaxBodyBytes, 0, 64 << 20),
            HeadersToMetadata = CommaList(get, "HEADERS_TO_METADATA"),
            LookupEnabled = Bool(get, "LOG_LOOKUP_ENABLED", false),
            Objects = Stores.LogObjectStoreOptions.FromEnvironment(get),
            Delivery = Switchyard.Core.Logs.Delivery.LogDeliveryOptions.FromEnvironment(get),
        };
    }

    /// <summary><c>DATA_PATH</c>, or <c>./data</c> when unset.</summary>
    public static string DataPath(Func<string, string?> get) => NonEmpty(get("DATA_PATH")) ?? DefaultDataPath;

    /// <summary>A writer's default directory: <paramref name="name"/> under <c>DATA_PATH</c>.</summary>
    // Joined with '/' so the unset default reads ./data/logs exactly as documented.
    internal static string UnderDataPath(Func<string, string?> get, string name) => DataPath(get).TrimEnd('/') is { Length: > 0 } b ? b + "/" + name : "/" + name;

    private static string? ParseStore(string? raw)
    {
        var value = NonEmpty(raw)?.ToLowerInvariant();
        return value switch
        {
            null => null,
            "local" or "none" => value,
            _ when Stores.LogObjectStoreOptions.Kinds.Contains(value) => value,
            _ => throw new FormatException($"LOG_STORE={raw} is not valid: use local, none, or an object store ({string.Join(", ", Stores.LogObjectStoreOptions.Kinds.Order(StringComparer.Ordinal))})."),
        };
    }
}
