using Switchyard.Core.Security.ApiKeys;

namespace Switchyard.Tests.Infrastructure;

/// <summary>
/// A temporary <c>API_KEYS_PATH</c> directory with one YAML key file, rewritten whole the way a deployment tool does it: the new
/// text goes to a hidden file (which the store skips) and is renamed over the old one, so no reader ever sees half a file.
/// </summary>
public sealed class KeyFileDirectory : IDisposable
{
    private readonly string _file;

    public KeyFileDirectory()
    {
        Path = Directory.CreateTempSubdirectory("switchyard-keyfiles-").FullName;
        _file = System.IO.Path.Combine(Path, "keys.yaml");
    }

    /// <summary>The directory to give the gateway as <c>API_KEYS_PATH</c>.</summary>
    public string Path { get; }

    /// <summary>
    /// Replaces the key file with <paramref name="entries"/> (each from <see cref="Entry"/>) and returns the time just before the
    /// rename, i.e. the earliest moment a gateway could have seen the change (so a delay measured from it is never too short).
    /// </summary>
    public DateTimeOffset Write(params string[] entries)
    {
        var staged = System.IO.Path.Combine(Path, ".keys.yaml.tmp");
        File.WriteAllText(staged, "keys:\n" + string.Concat(entries));
        var at = DateTimeOffset.UtcNow;
        File.Move(staged, _file, overwrite: true);
        return at;
    }

    /// <summary>One key entry in YAML, stored as the hash of <paramref name="key"/>; <paramref name="limits"/> is more YAML at the entry's indentation (4 spaces).</summary>
    public static string Entry(string name, string key, string limits = "") =>
        $"  - name: {name}\n    hash: {ApiKeyHash.Format(key)}\n    scopes: [completions.write]\n{limits}";

    /// <summary><c>rate_limits: [{requests: N, per: minute}]</c> as entry YAML.</summary>
    public static string RequestsPerMinute(int n) => $"    rate_limits:\n      - requests: {n}\n        per: minute\n";

    /// <summary><c>budgets: [{tokens: N, period: total}]</c> as entry YAML.</summary>
    public static string TokenBudget(int tokens) => $"    budgets:\n      - tokens: {tokens}\n        period: total\n";

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS's temp cleanup.
        }
    }
}
