using Switchyard.Core.Caching;
using Switchyard.Core.Configs;
using Switchyard.Core.Logs;
using Switchyard.Core.Providers;
using Switchyard.Core.Providers.Google;
using Switchyard.Core.Requests;
using Switchyard.Core.Routing;
using Switchyard.Core.Telemetry;

namespace Switchyard.Core;

/// <summary>
/// Engine settings, one group per capability, bound from the environment variable names in docs/configuration.md.
/// Each group lives next to the code that uses it and reads its own variables.
/// </summary>
public sealed record GatewaySettings
{
    /// <summary>The base of every directory the gateway writes (<c>DATA_PATH</c>): the local log store and the spill directory default under it.</summary>
    public string DataPath { get; init; } = LogStoreOptions.DefaultDataPath;

    /// <summary>Named routing configs: directory and reload debounce (<c>CONFIG_DIR</c>, <c>CONFIG_RELOAD_DEBOUNCE_MS</c>).</summary>
    public ConfigStoreOptions Configs { get; init; } = new();

    /// <summary>Retry limits and backoff (<c>RETRY_*</c>).</summary>
    public RetryOptions Retry { get; init; } = new();

    /// <summary>Reaching providers: timeouts, base URLs, extra CAs, trusted custom hosts (<c>REQUEST_TIMEOUT</c>, <c>UPSTREAM_*</c>, <c>PROVIDER_BASE_URLS</c>, <c>TRUSTED_CUSTOM_HOSTS</c>).</summary>
    public UpstreamOptions Upstream { get; init; } = new();

    /// <summary>Google Cloud workload identity (<c>GCP_AUTH_MODE</c>, <c>GCE_METADATA_HOST</c>).</summary>
    public GcpOptions Gcp { get; init; } = new();

    /// <summary>Limits on client requests (<c>MAX_JSON_PAYLOAD_SIZE_IN_MB</c>).</summary>
    public RequestLimits Limits { get; init; } = new();

    /// <summary>The request log (<c>LOG_STORE</c>, <c>LOG_STORE_LOCAL_*</c>, <c>LOG_QUEUE_CAPACITY</c>).</summary>
    public LogStoreOptions Logs { get; init; } = new();

    /// <summary>The price table for cost accounting and price-based routing (<c>PRICE_TABLE_PATH</c>).</summary>
    public Usage.Pricing.PricingOptions Pricing { get; init; } = new();

    /// <summary>Response cache store and semantic cache (<c>CACHE_STORE</c>, <c>REDIS_*</c>, <c>SEMANTIC_CACHE_*</c>).</summary>
    public CacheOptions Cache { get; init; } = new();

    /// <summary>Rate limits and budgets: the limits file, replica share, reservation defaults (<c>LIMITS_*</c>).</summary>
    public Limits.LimitOptions UsageLimits { get; init; } = new();

    /// <summary>Metric names and label bounds (<c>OTEL_SEMCONV_STABILITY_OPT_IN</c>, <c>METRICS_LABEL_VALUE_LIMIT</c>, <c>PROMETHEUS_*</c> label options).</summary>
    public TelemetryOptions Telemetry { get; init; } = new();

    /// <summary>Reads every group from environment-style variables; unknown or malformed values raise a clear error at start-up.</summary>
    public static GatewaySettings FromEnvironment(Func<string, string?> get) => new()
    {
        DataPath = LogStoreOptions.DataPath(get),
        Configs = ConfigStoreOptions.FromEnvironment(get),
        Retry = RetryOptions.FromEnvironment(get),
        Upstream = UpstreamOptions.FromEnvironment(get),
        Gcp = GcpOptions.FromEnvironment(get),
        Limits = RequestLimits.FromEnvironment(get),
        Logs = LogStoreOptions.FromEnvironment(get),
        Cache = CacheOptions.FromEnvironment(get),
        Pricing = Usage.Pricing.PricingOptions.FromEnvironment(get),
        Telemetry = TelemetryOptions.FromEnvironment(get),
        UsageLimits = global::Switchyard.Core.Limits.LimitOptions.FromEnvironment(get),
    };
}
