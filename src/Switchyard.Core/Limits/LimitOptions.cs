using static Switchyard.Core.EnvironmentValues;

namespace Switchyard.Core.Limits;

/// <summary>Rate-limit and budget settings (<c>LIMITS_*</c>), bound from the variables in docs/access-control.md.</summary>
public sealed record LimitOptions
{
    /// <summary><c>LIMITS_PATH</c>: a file or directory of team, model and policy limits; null when unset.</summary>
    public string? Path { get; init; }

    /// <summary>
    /// <c>LIMITS_REPLICAS</c> (default 1): how many gateway replicas share the limits. A replica that counts on its own (memory
    /// store, or Redis unreachable) enforces <c>limit / LIMITS_REPLICAS</c>, so the fleet together stays near the limit.
    /// </summary>
    public int Replicas { get; init; } = 1;

    /// <summary>
    /// <c>LIMITS_DEFAULT_COMPLETION_TOKENS</c> (default 1024): the completion tokens reserved for a request that sets no
    /// <c>max_tokens</c>, <c>max_completion_tokens</c> or <c>max_output_tokens</c>; settlement corrects it to what was used.
    /// </summary>
    public int DefaultCompletionTokens { get; init; } = 1024;

    /// <summary><c>LIMITS_REDIS_TIMEOUT_MS</c> (default 250): past it a Redis counter operation counts as failed and the replica counts locally.</summary>
    public TimeSpan RedisTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>After a Redis failure, how long requests count locally before Redis is tried again.</summary>
    public TimeSpan RedisRetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the Limits file is polled (tests shorten the debounce); null keeps the store's default.</summary>
    public TimeSpan? ReloadDebounce { get; init; }

    public static LimitOptions FromEnvironment(Func<string, string?> get) => new()
    {
        Path = NonEmpty(get("LIMITS_PATH")),
        Replicas = Int(get, "LIMITS_REPLICAS", 1, 1, 10_000),
        DefaultCompletionTokens = Int(get, "LIMITS_DEFAULT_COMPLETION_TOKENS", 1024, 0, 10_000_000),
        RedisTimeout = TimeSpan.FromMilliseconds(Int(get, "LIMITS_REDIS_TIMEOUT_MS", 250, 10, 60_000)),
    };
}
