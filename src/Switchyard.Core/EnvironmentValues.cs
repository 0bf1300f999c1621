using System.Globalization;

namespace Switchyard.Core;

/// <summary>Parsing shared by every option group's <c>FromEnvironment</c>: one wording for every malformed value.</summary>
internal static class EnvironmentValues
{
    /// <summary>The trimmed value, or null when it is unset or blank.</summary>
    public static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>; <paramref name="fallback"/> when unset.</summary>
    public static int Int(Func<string, string?> get, string name, int fallback, int min, int max)
    {
        var raw = NonEmpty(get(name));
        if (raw is null)
        {
            return fallback;
        }
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
        {
            throw new FormatException($"{name}={raw} is not valid: expected a whole number from {min} to {max}.");
        }
        return v;
    }

    /// <summary>A duration given in milliseconds (0 or more); <paramref name="fallback"/> when unset.</summary>
    public static TimeSpan Ms(Func<string, string?> get, string name, TimeSpan fallback)
        => TimeSpan.FromMilliseconds(Int(get, name, (int)fallback.TotalMilliseconds, 0, int.MaxValue));

    /// <summary>true/false (also 1/0, yes/no, on/off); <paramref name="fallback"/> when unset.</summary>
    public static bool Bool(Func<string, string?> get, string name, bool fallback) => NonEmpty(get(name))?.ToLowerInvariant() switch
    {
        null => fallback,
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        var other => throw new FormatException($"{name}={other} is not valid: use true or false."),
    };

    /// <summary>A comma-separated list, entries trimmed, blanks dropped; empty when unset.</summary>
    public static IReadOnlyList<string> CommaList(Func<string, string?> get, string name) =>
        NonEmpty(get(name))?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
}
