using System.Globalization;

namespace Switchyard.Core;

/// <summary>Engine settings, bound from the environment variable names in docs/configuration.md.</summary>
public sealed record GatewaySettings
{
    /// <summary>Directory of named routing configs (<c>CONFIG_DIR</c>).</summary>
    public string ConfigDirectory { get; init; } = "./configs";

    /// <summary>Hosts exempt from custom_host SSRF checks (<c>TRUSTED_CUSTOM_HOSTS</c>); null keeps the defaults.</summary>
    public string? TrustedCustomHosts { get; init; }

    /// <summary>Upper bound on <c>retry.attempts</c> (<c>RETRY_MAX_ATTEMPTS</c>); larger values are clamped.</summary>
    public int MaxRetryAttempts { get; init; } = 5;

    /// <summary>First backoff delay (<c>RETRY_INITIAL_DELAY_MS</c>); doubles each retry.</summary>
    public TimeSpan RetryInitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Ceiling on one backoff delay (<c>RETRY_MAX_DELAY_MS</c>).</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Total time one target may spend waiting between retries (<c>RETRY_TOTAL_BUDGET_MS</c>); a Retry-After beyond what is left stops retrying.</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Timeout for an attempt when no request_timeout applies (<c>REQUEST_TIMEOUT</c>, ms).</summary>
    public TimeSpan DefaultRequestTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>TCP/TLS connect timeout to upstreams (<c>UPSTREAM_CONNECT_TIMEOUT_MS</c>).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest request body accepted (<c>MAX_JSON_PAYLOAD_SIZE_IN_MB</c>).</summary>
    public long MaxRequestBodyBytes { get; init; } = 100L * 1024 * 1024;

    /// <summary>Base-URL overrides for catalog providers (<c>PROVIDER_BASE_URLS</c>: <c>openai=https://eu.api.openai.com/v1,groq=…</c>), e.g. a regional endpoint or an internal egress proxy.</summary>
    public IReadOnlyDictionary<string, string> ProviderBaseUrls { get; init; } = new Dictionary<string, string>();

    /// <summary>PEM file of extra CAs trusted for upstream and token-endpoint TLS (<c>UPSTREAM_CA_FILE</c>), e.g. an egress proxy's; system roots stay trusted.</summary>
    public string? UpstreamCaFile { get; init; }

    /// <summary>Where request logs go (<c>LOG_STORE</c>): <c>local</c> (JSON lines in <see cref="LogDirectory"/>, the default) or <c>none</c>.</summary>
    public string LogStore { get; init; } = "local";

    /// <summary>Directory of the local log store (<c>LOG_STORE_LOCAL_PATH</c>).</summary>
    public string LogDirectory { get; init; } = "./data/logs";

    /// <summary>Size at which the local log rolls to a new file (<c>LOG_STORE_LOCAL_FILE_MB</c>).</summary>
    public long LogFileLimitBytes { get; init; } = 64L << 20;

    /// <summary>Total size of the local log directory; the oldest files are deleted beyond it (<c>LOG_STORE_LOCAL_MAX_MB</c>).</summary>
    public long LogTotalLimitBytes { get; init; } = 1L << 30;

    /// <summary>Records that may wait for the log writer before new ones are dropped and counted (<c>LOG_QUEUE_CAPACITY</c>).</summary>
    public int LogQueueCapacity { get; init; } = 10_000;

    /// <summary>Quiet period before a changed config file is re-read (<c>CONFIG_RELOAD_DEBOUNCE_MS</c>).</summary>
    public TimeSpan ConfigReloadDebounce { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Vertex AI's default credential (<c>GCP_AUTH_MODE</c>): <c>workload</c> takes tokens from the GCE metadata server; null otherwise.</summary>
    public string? GcpAuthMode { get; init; }

    /// <summary>The GCE metadata server, host[:port] (<c>GCE_METADATA_HOST</c>), for workload identity.</summary>
    public string GceMetadataHost { get; init; } = "metadata.google.internal";

    /// <summary>Response cache store and semantic cache (<c>CACHE_STORE</c>, <c>REDIS_*</c>, <c>SEMANTIC_CACHE_*</c>).</summary>
    public Caching.CacheOptions Cache { get; init; } = new();

    /// <summary>Reads the settings from environment-style variables; unknown or malformed values raise a clear error at start-up.</summary>
    public static GatewaySettings FromEnvironment(Func<string, string?> get)
    {
        var s = new GatewaySettings();
        return s with
        {
            ConfigDirectory = NonEmpty(get("CONFIG_DIR")) ?? s.ConfigDirectory,
            TrustedCustomHosts = NonEmpty(get("TRUSTED_CUSTOM_HOSTS")),
            MaxRetryAttempts = Int(get, "RETRY_MAX_ATTEMPTS", s.MaxRetryAttempts, 0, 20),
            RetryInitialDelay = Ms(get, "RETRY_INITIAL_DELAY_MS", s.RetryInitialDelay),
            RetryMaxDelay = Ms(get, "RETRY_MAX_DELAY_MS", s.RetryMaxDelay),
            RetryBudget = Ms(get, "RETRY_TOTAL_BUDGET_MS", s.RetryBudget),
            DefaultRequestTimeout = Ms(get, "REQUEST_TIMEOUT", s.DefaultRequestTimeout),
            ConnectTimeout = Ms(get, "UPSTREAM_CONNECT_TIMEOUT_MS", s.ConnectTimeout),
            MaxRequestBodyBytes = Int(get, "MAX_JSON_PAYLOAD_SIZE_IN_MB", 100, 1, 4096) * 1024L * 1024,
            ConfigReloadDebounce = Ms(get, "CONFIG_RELOAD_DEBOUNCE_MS", s.ConfigReloadDebounce),
            ProviderBaseUrls = ParseBaseUrls(get("PROVIDER_BASE_URLS")),
            UpstreamCaFile = NonEmpty(get("UPSTREAM_CA_FILE")),
            LogStore = ParseLogStore(get("LOG_STORE")) ?? s.LogStore,
            LogDirectory = NonEmpty(get("LOG_STORE_LOCAL_PATH")) ?? s.LogDirectory,
            LogQueueCapacity = Int(get, "LOG_QUEUE_CAPACITY", s.LogQueueCapacity, 1, 10_000_000),
            LogFileLimitBytes = Int(get, "LOG_STORE_LOCAL_FILE_MB", 64, 1, 1 << 20) * (1L << 20),
            LogTotalLimitBytes = Int(get, "LOG_STORE_LOCAL_MAX_MB", 1024, 1, 1 << 30) * (1L << 20),
            GcpAuthMode = NonEmpty(get("GCP_AUTH_MODE"))?.ToLowerInvariant(),
            GceMetadataHost = NonEmpty(get("GCE_METADATA_HOST")) ?? s.GceMetadataHost,
            Cache = Caching.CacheOptions.FromEnvironment(get),
        };
    }

    private static string? ParseLogStore(string? raw)
    {
        var value = NonEmpty(raw)?.ToLowerInvariant();
        return value switch
        {
            null => null,
            "local" or "none" => value,
            _ => throw new FormatException($"LOG_STORE={raw} is not available in this version of Switchyard: use local or none."),
        };
    }

    private static Dictionary<string, string> ParseBaseUrls(string? raw)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in (raw ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0 || !Uri.TryCreate(pair[(eq + 1)..].Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new FormatException($"PROVIDER_BASE_URLS entry '{pair}' is not valid: expected provider=https://host/path.");
            }
            map[pair[..eq].Trim()] = uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        }
        return map;
    }

    private static string? NonEmpty(string? v) => string.IsNullOrWhiteSpace(v) ? null : v.Trim();

    internal static int Int(Func<string, string?> get, string name, int fallback, int min, int max)
    {
        var raw = NonEmpty(get(name));
        if (raw is null)
        {
            return fallback;
        }
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
        {
            throw new FormatException($"{name}={raw} is not valid: expected a whole number from {min} to {max}.");
        }
        return v;
    }

    private static TimeSpan Ms(Func<string, string?> get, string name, TimeSpan fallback)
        => TimeSpan.FromMilliseconds(Int(get, name, (int)fallback.TotalMilliseconds, 0, int.MaxValue));
}
