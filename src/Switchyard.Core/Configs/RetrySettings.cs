namespace Switchyard.Core.Configs;

/// <summary>A node's <c>retry</c> block: how often a leaf is retried and on which statuses.</summary>
public sealed record RetrySettings(int Attempts, IReadOnlySet<int> OnStatusCodes, bool UseRetryAfterHeader)
{
    /// <summary>Portkey's default retry statuses.</summary>
    public static readonly IReadOnlySet<int> DefaultStatusCodes = new HashSet<int> { 429, 500, 502, 503, 504 };

    public static readonly RetrySettings None = new(0, DefaultStatusCodes, true);
}
