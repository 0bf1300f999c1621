namespace Switchyard.Core.Limits;

/// <summary>The counters of one subject that one request touches, and what it reserved in each.</summary>
internal sealed class SubjectCounters
{
    public required LimitSubject Subject { get; init; }

    /// <summary>The metric label: the configured name (a policy's name, never a <c>per</c> value); null keeps it out of metrics.</summary>
    public string? Label { get; init; }

    public required LimitRule[] Rules { get; init; }

    public required CounterSpec[] Specs { get; init; }

    public required long[] Amounts { get; init; }

    /// <summary>Each sliding counter's sub-bucket at reservation time (settlement corrects that sub-bucket).</summary>
    public long[] Buckets { get; set; } = [];

    /// <summary>Counted in this process (memory store, or Redis was failing) with this replica's share of each limit.</summary>
    public bool Local { get; set; }

    public long[] Used { get; set; } = [];
}

/// <summary>What one request reserved before it was sent, settled with what it used when it completes.</summary>
public sealed class LimitReservation
{
    internal List<SubjectCounters> Subjects { get; } = [];

    /// <summary>Tokens reserved per token rule: the prompt estimate plus the completion allowance.</summary>
    public long Tokens { get; internal set; }

    /// <summary>Cost reserved per cost rule, in nano-USD.</summary>
    public long CostNanos { get; internal set; }

    /// <summary>The virtual key whose rules were reserved, if any (the answering leaf may use another).</summary>
    public string? VirtualKey { get; internal set; }

    /// <summary>Set once settled or released, so nothing is counted twice.</summary>
    internal int Settled;
}
