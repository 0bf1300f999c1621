using System.Text;
using System.Text.Json.Nodes;

namespace Switchyard.Core.Configs;

/// <summary>Resolves <c>${NAME}</c> references in named config files from the environment, so credentials never live in the files.</summary>
/// <remarks>
/// Only operator-owned named configs are resolved; an inline config from a client is never, or a client could read the gateway's secrets.
/// A variable whose value is the path of an existing file is replaced by the file's contents (the Kubernetes secret-mount convention).
/// </remarks>
public static class CredentialReferences
{
    /// <summary>Replaces references in every string value in place; returns the names that had no value.</summary>
    public static IReadOnlyList<string> Resolve(JsonNode? node, Func<string, string?> environment)
    {
        var missing = new List<string>();
        Walk(node, environment, missing);
        return missing;
    }

    private static void Walk(JsonNode? node, Func<string, string?> env, List<string> missing)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    if (obj[key] is JsonValue v && TryGetText(v, out var s) && s.Contains("${", StringComparison.Ordinal))
                    {
                        obj[key] = JsonValue.Create(Substitute(s, env, missing));
                    }
                    else
                    {
                        Walk(obj[key], env, missing);
                    }
                }
                break;
            case JsonArray arr:
                for (var i = 0; i < arr.Count; i++)
                {
                    if (arr[i] is JsonValue v && TryGetText(v, out var s) && s.Contains("${", StringComparison.Ordinal))
                    {
                        arr[i] = JsonValue.Create(Substitute(s, env, missing));
                    }
                    else
                    {
                        Walk(arr[i], env, missing);
                    }
                }
                break;
        }
    }

    // A string with an escaped lone surrogate cannot be read as text; it holds no reference, and the compiler reports it with its path.
    private static bool TryGetText(JsonValue value, out string text)
    {
        try
        {
            return value.TryGetValue(out text!);
        }
        catch (InvalidOperationException)
        {
            text = "";
            return false;
        }
    }

    internal static string Substitute(string text, Func<string, string?> env, List<string> missing)
    {
        var sb = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var start = text.IndexOf("${", i, StringComparison.Ordinal);
            var end = start < 0 ? -1 : text.IndexOf('}', start + 2);
            if (start < 0 || end < 0)
            {
                sb.Append(text, i, text.Length - i);
                break;
            }
            sb.Append(text, i, start - i);
            var name = text[(start + 2)..end].Trim();
            var value = env(name);
            if (value is null)
            {
                missing.Add(name);
            }
            else
            {
                sb.Append(FromFileIfPath(value));
            }
            i = end + 1;
        }
        return sb.ToString();
    }

    private static string FromFileIfPath(string value)
    {
        if ((value.StartsWith('/') || value.StartsWith("./", StringComparison.Ordinal) || value.StartsWith("../", StringComparison.Ordinal)) && File.Exists(value))
        {
            return File.ReadAllText(value).Trim();
        }
        return value;
    }
}
