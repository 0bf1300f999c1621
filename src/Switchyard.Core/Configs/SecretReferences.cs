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
