using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Switchyard.Core.Configs;

/// <summary>
/// Credentials written as a whole <c>${NAME}</c> reference in operator files (virtual keys, MCP servers): the variable's value, or,
/// when that value is a path, the trimmed content of the mounted secret file it names. Messages name the variable, never a value.
/// </summary>
public static partial class SecretReferences
{
    /// <summary>What a message says a credential must look like.</summary>
    public const string Rule = "a credential must be written as ${NAME}, the name of an environment variable (or of one that holds the path of a mounted secret file); credentials are never read from the file itself";

    [GeneratedRegex(@"^\$\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}$")]
    private static partial Regex WholeReference();

    /// <summary>
    /// A credential field of an operator file: only a whole <c>${NAME}</c> string, resolved with <see cref="Lookup"/>. Adds why not to
    /// <paramref name="problems"/> (never the value: whatever stands there is most likely the secret itself) and returns null.
    /// </summary>
    public static string? ReadSecret(JsonNode node, Func<string, string?> environment, List<string>? secretFiles, List<string> problems)
    {
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String || ReferencedName(v.GetValue<string>()) is not { } name)
        {
            problems.Add(Rule);
            return null;
        }
        var value = Lookup(name, environment, secretFiles, out var error);
        if (error is not null)
        {
            problems.Add(error);
        }
        return value;
    }

    /// <summary>
    /// A plain setting of an operator file: a string (or a bare number or flag, as YAML may read <c>2024-10-21</c> either way) in which
    /// <c>${NAME}</c> references are replaced by their values. Adds why not to <paramref name="problems"/> and returns null.
    /// </summary>
    public static string? ReadText(JsonNode node, Func<string, string?> environment, List<string> problems)
    {
        if (node is not JsonValue v)
        {
            problems.Add("must be a string");
            return null;
        }
        string raw;
        switch (v.GetValueKind())
        {
            case JsonValueKind.String:
                raw = v.GetValue<string>();
                break;
            case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                raw = v.ToJsonString();
                break;
            default:
                problems.Add("must be a string");
                return null;
        }
        if (!raw.Contains("${", StringComparison.Ordinal))
        {
            return raw;
        }
        var missing = new List<string>();
        var resolved = CredentialReferences.Substitute(raw, environment, missing);
        foreach (var name in missing)
        {
            problems.Add($"environment variable {name} is not set");
        }
        return missing.Count == 0 ? resolved : null;
    }

    /// <summary>The variable name of a value that is exactly <c>${NAME}</c> (surrounding blanks allowed), or null.</summary>
    public static string? ReferencedName(string value)
    {
        var trimmed = value.Trim();
        return WholeReference().IsMatch(trimmed) ? trimmed[2..^1].Trim() : null;
    }

    /// <summary>
    /// Resolves variable <paramref name="name"/>: its value, or the file it names (<c>/…</c>, <c>./…</c>, <c>../…</c>), read and trimmed,
    /// with the path added to <paramref name="secretFiles"/> so a store can watch it. On failure <paramref name="error"/> says why
    /// (starting lower-case, naming the variable and path, never a value).
    /// </summary>
    public static string? Lookup(string name, Func<string, string?> environment, List<string>? secretFiles, out string? error)
    {
        error = null;
        var value = environment(name);
        if (value is null)
        {
            error = $"environment variable {name} is not set";
            return null;
        }
        var trimmed = value.Trim();
        if (trimmed.StartsWith('/') || trimmed.StartsWith("./", StringComparison.Ordinal) || trimmed.StartsWith("../", StringComparison.Ordinal))
        {
            // The secret-mount convention: the variable names a file. A path that is not there is a mistake, not a credential.
            try
            {
                if (!File.Exists(trimmed))
                {
                    error = $"environment variable {name} names the file {trimmed}, which does not exist";
                    return null;
                }
                value = File.ReadAllText(trimmed).Trim();
                secretFiles?.Add(trimmed);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                error = $"environment variable {name} names the file {trimmed}, which cannot be read ({ex.GetType().Name})";
                return null;
            }
        }
        if (value.Length == 0)
        {
            error = $"environment variable {name} is empty";
            return null;
        }
        return value;
    }

    /// <summary>Header names whose values are credentials, so they must come from references too.</summary>
    public static bool IsCredentialHeader(string header)
    {
        var h = header.ToLowerInvariant();
        return h is "authorization" or "proxy-authorization" or "cookie" or "api-key" or "x-api-key"
            || h.EndsWith("-key", StringComparison.Ordinal) || h.EndsWith("-token", StringComparison.Ordinal) || h.EndsWith("-secret", StringComparison.Ordinal);
    }
}
