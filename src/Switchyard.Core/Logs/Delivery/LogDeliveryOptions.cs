using static Switchyard.Core.EnvironmentValues;

namespace Switchyard.Core.Logs.Delivery;

/// <summary>How request logs travel to a remote log store: writers, retries, circuit breaker, spill directory and shutdown drain (docs/log-delivery.md).</summary>
public sealed record LogDeliveryOptions
{
    /// <summary>Consecutive failed store calls that open the circuit (<c>LOG_STORE_CONNECTION_FAILURE_THRESHOLD</c>, default 5).</summary>
    public int FailureThreshold { get; init; } = 5;

    /// <summary>How long an open circuit waits before one probe upload (<c>LOG_STORE_CONNECTION_BACKOFF_MS</c>, default 60000).</summary>
    public TimeSpan CircuitBackoff { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest one store call may take before it counts as failed (<c>LOG_STORE_CONNECTION_TIMEOUT_MS</c>, default 15000).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Where records wait on disk while the store is down or the queue is full (<c>LOG_STORE_SPILL_PATH</c>, default <c>$DATA_PATH/log-spill</c>).</summary>
    public string SpillDirectory { get; init; } = "./data/log-spill";

    /// <summary>Disk the spill directory may take; past it records are dropped and counted (<c>LOG_STORE_SPILL_MAX_MB</c>, default 1024; 0 turns spilling off).</summary>
    public long SpillMaxBytes { get; init; } = 1L << 30;

    /// <summary>Flush each spill file to the device before it counts as spilled (<c>LOG_STORE_SPILL_FSYNC</c>, default false): survives a power cut, costs a disk sync per record.</summary>
    public bool SpillFsync { get; init; }

    /// <summary>Store calls in flight at once, and background writers taking from the queue (<c>LOG_STORE_WRITERS</c>, default 4).</summary>
    public int Writers { get; init; } = 4;

    /// <summary>Records a writer takes from the queue at a time (<c>LOG_STORE_BATCH_SIZE</c>, default 16).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Retries of a failed upload before the record is spilled (<c>LOG_STORE_RETRY_ATTEMPTS</c>, default 3).</summary>
    public int RetryAttempts { get; init; } = 3;

    /// <summary>First delay between retries (<c>LOG_STORE_RETRY_DELAY_MS</c>, default 500); doubles each retry, with jitter.</summary>
    public TimeSpan RetryInitialDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Ceiling on one retry delay, and the pause after a spill-upload pass that met failures (<c>LOG_STORE_RETRY_MAX_DELAY_MS</c>, default 10000).</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long shutdown keeps uploading the queue before the rest goes to the spill directory (<c>LOG_STORE_DRAIN_TIMEOUT_MS</c>, default 10000).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public static LogDeliveryOptions FromEnvironment(Func<string, string?> get)
    {
        var d = new LogDeliveryOptions();
        return d with
        {
            FailureThreshold = Int(get, "LOG_STORE_CONNECTION_FAILURE_THRESHOLD", d.FailureThreshold, 1, 10_000),
            CircuitBackoff = MsInRange(get, "LOG_STORE_CONNECTION_BACKOFF_MS", d.CircuitBackoff, 100, 86_400_000),
            CallTimeout = MsInRange(get, "LOG_STORE_CONNECTION_TIMEOUT_MS", d.CallTimeout, 100, 600_000),
            SpillDirectory = NonEmpty(get("LOG_STORE_SPILL_PATH")) ?? LogStoreOptions.UnderDataPath(get, "log-spill"),
            SpillMaxBytes = Int(get, "LOG_STORE_SPILL_MAX_MB", (int)(d.SpillMaxBytes >> 20), 0, 1 << 22) * (1L << 20),
            SpillFsync = Bool(get, "LOG_STORE_SPILL_FSYNC", d.SpillFsync),
            Writers = Int(get, "LOG_STORE_WRITERS", d.Writers, 1, 64),
            BatchSize = Int(get, "LOG_STORE_BATCH_SIZE", d.BatchSize, 1, 1000),
            RetryAttempts = Int(get, "LOG_STORE_RETRY_ATTEMPTS", d.RetryAttempts, 0, 10),
            RetryInitialDelay = MsInRange(get, "LOG_STORE_RETRY_DELAY_MS", d.RetryInitialDelay, 1, 60_000),
            RetryMaxDelay = MsInRange(get, "LOG_STORE_RETRY_MAX_DELAY_MS", d.RetryMaxDelay, 1, 600_000),
            DrainTimeout = MsInRange(get, "LOG_STORE_DRAIN_TIMEOUT_MS", d.DrainTimeout, 0, 600_000),
        };
    }

    private static TimeSpan MsInRange(Func<string, string?> get, string name, TimeSpan fallback, int min, int max)
        => TimeSpan.FromMilliseconds(Int(get, name, (int)fallback.TotalMilliseconds, min, max));

    // Local rather than in EnvironmentValues: the same wording as INLINE_IO's, without touching the shared parser.
    private static bool Bool(Func<string, string?> get, string name, bool fallback) => NonEmpty(get(name))?.ToLowerInvariant() switch
    {
        null => fallback,
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        var other => throw new FormatException($"{name}={other} is not valid: use true or false."),
    };
}
