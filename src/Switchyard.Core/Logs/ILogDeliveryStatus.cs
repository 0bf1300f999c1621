namespace Switchyard.Core.Logs;

/// <summary>How request-log delivery is doing, for <c>/metrics</c> and <c>/v1/health</c>.</summary>
public interface ILogDeliveryStatus
{
    /// <summary>The <c>LOG_STORE</c> kind.</summary>
    string Store { get; }

    /// <summary>Records waiting in memory for a writer.</summary>
    long QueueDepth { get; }

    /// <summary>Records waiting in the spill directory for the store to come back.</summary>
    long SpilledRecords { get; }

    /// <summary>Bytes the spill directory holds.</summary>
    long SpilledBytes { get; }

    /// <summary>Records the store has accepted since start.</summary>
    long Delivered { get; }

    /// <summary>Records lost since start (the disk budget was exhausted, or the record could not be written at all).</summary>
    long Dropped { get; }

    /// <summary>True while the circuit breaker holds writes back after repeated store failures.</summary>
    bool CircuitOpen { get; }
}
