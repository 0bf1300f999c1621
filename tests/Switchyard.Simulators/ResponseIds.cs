namespace Switchyard.Simulators;

/// <summary>Random identifiers shaped like OpenAI's (prefix plus opaque suffix).</summary>
internal static class ResponseIds
{
    public static string New(string prefix) => prefix + Guid.NewGuid().ToString("N")[..24];

    public static long UnixNow() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
