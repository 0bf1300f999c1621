using static Switchyard.Core.EnvironmentValues;

namespace Switchyard.Core.Routing;

/// <summary>Limits and backoff of the retries a config's <c>retry</c> block asks for, bound from the variables in docs/configuration.md.</summary>
public sealed record RetryOptions
{
    /// <summary>Upper bound on <c>retry.attempts</c> (<c>RETRY_MAX_ATTEMPTS</c>, default 5); larger values are clamped.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>First backoff delay (<c>RETRY_INITIAL_DELAY_MS</c>, default 1000); doubles each retry.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Ceiling on one backoff delay (<c>RETRY_MAX_DELAY_MS</c>, default 10000).</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Total time one target may spend waiting between retries (<c>RETRY_TOTAL_BUDGET_MS</c>, default 60000); a Retry-After beyond what is left stops retrying.</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromSeconds(60);

    public static RetryOptions FromEnvironment(Func<string, string?> get)
    {
        var d = new RetryOptions();
        return d with
        {
            MaxAttempts = Int(get, "RETRY_MAX_ATTEMPTS", d.MaxAttempts, 0, 20),
            InitialDelay = Ms(get, "RETRY_INITIAL_DELAY_MS", d.InitialDelay),
            MaxDelay = Ms(get, "RETRY_MAX_DELAY_MS", d.MaxDelay),
            Budget = Ms(get, "RETRY_TOTAL_BUDGET_MS", d.Budget),
        };
    }
}
