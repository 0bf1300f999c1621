using System.Collections.Concurrent;

namespace Switchyard.Core.Telemetry;

/// <summary>
/// Keeps an open-ended label (a model name, a guardrail id, a metadata value) to a bounded set of values: the first
/// <c>limit</c> distinct values are reported as they are, every later one as <see cref="Other"/>. Without it one client
/// sending random model names could grow the metric series, and the memory and scrape size with them, without end.
/// </summary>
internal sealed class BoundedLabel(int limit)
{
    public const string Other = "_other";

    /// <summary>Values longer than this are never admitted: no legitimate model name or id is that long.</summary>
    public const int MaxValueLength = 128;

    private readonly ConcurrentDictionary<string, string> _admitted = new(StringComparer.Ordinal);
    private int _count;

    public int Limit => limit;

    /// <summary>The value to record for <paramref name="value"/>: itself (the first-seen instance) or <see cref="Other"/>; null stays null.</summary>
    public string? Get(string? value)
    {
        if (value is null)
        {
            return null;
        }
        if (_admitted.TryGetValue(value, out var known))
        {
            return known;
        }
        if (value.Length > MaxValueLength || Volatile.Read(ref _count) >= limit)
        {
            return Other;
        }
        // Reserve a slot first, so racing admissions cannot overshoot the limit.
        if (Interlocked.Increment(ref _count) > limit)
        {
            Interlocked.Decrement(ref _count);
            return Other;
        }
        if (!_admitted.TryAdd(value, value))
        {
            Interlocked.Decrement(ref _count);
            return _admitted.TryGetValue(value, out known) ? known : value;
        }
        return value;
    }
}
