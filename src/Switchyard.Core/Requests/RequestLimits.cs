using static Switchyard.Core.EnvironmentValues;

namespace Switchyard.Core.Requests;

/// <summary>Limits on what a client may send, bound from the variables in docs/configuration.md.</summary>
public sealed record RequestLimits
{
    /// <summary>Largest request body accepted (<c>MAX_JSON_PAYLOAD_SIZE_IN_MB</c>, default 100).</summary>
    public long MaxBodyBytes { get; init; } = 100L * 1024 * 1024;

    public static RequestLimits FromEnvironment(Func<string, string?> get) => new()
    {
        MaxBodyBytes = Int(get, "MAX_JSON_PAYLOAD_SIZE_IN_MB", 100, 1, 4096) * 1024L * 1024,
    };
}
