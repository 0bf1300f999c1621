namespace Switchyard.Core.Limits;

/// <summary>What a limit counts for: a gateway key, a team, a virtual key, a model, or a policy from the limits file.</summary>
public enum LimitSubjectKind
{
    Key,
    Team,
    VirtualKey,
    Model,
    Policy,
}

/// <summary>One subject of limits, e.g. (Team, "ml-platform").</summary>
public readonly record struct LimitSubject(LimitSubjectKind Kind, string Name);

/// <summary>Where one rule of one subject stands now.</summary>
/// <param name="Source"><c>redis</c> when read from the shared store, <c>local</c> when this replica is enforcing its share alone.</param>
public sealed record LimitStatus(LimitSubject Subject, LimitRule Rule, decimal Used, decimal Remaining, DateTimeOffset? ResetsAt, string Source);

/// <summary>Usage and what remains of every limit and budget; read by the admin API.</summary>
public interface ILimitUsage
{
    /// <summary>Every subject that has at least one rule, as configured now.</summary>
    IReadOnlyList<LimitSubject> Subjects { get; }

    /// <summary>Each rule of <paramref name="subject"/> with what has been used in its current window or period.</summary>
    ValueTask<IReadOnlyList<LimitStatus>> StatusAsync(LimitSubject subject, CancellationToken ct);
}
