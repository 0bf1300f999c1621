using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Switchyard.Core.Configs;
using Switchyard.Core.Providers;

namespace Switchyard.Core.Security.VirtualKeys;

/// <summary>Reads one virtual-key file (JSON or YAML): <c>{"virtual_keys": [ … ]}</c> or a bare list of entries.</summary>
/// <remarks>
/// A file with any error is refused whole (the store keeps its previous version). Credentials are accepted only as <c>${NAME}</c>
/// references, resolved here from the environment or from the secret file an environment variable names; messages name the
/// field and the variable, never a value.
/// </remarks>
public static partial class VirtualKeyFile
{
    private static readonly FrozenSet<string> Known = new[]
    {
        "slug", "provider", "api_key", "description", "models", "custom_host", "headers", "rate_limits", "budgets",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Fields that hold a credential: written literally in a file they would end up in git.</summary>
    private static readonly FrozenSet<string> SecretFields = new[]
    {
        "api_key", "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "vertex_service_account_json",
        "azure_ad_token", "azure_entra_client_secret",
    }.ToFrozenSet(StringComparer.Ordinal);

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex SlugShape();

    /// <summary>What the parser checks entries against: the providers this build knows, the custom-host rules, the environment.</summary>
    public sealed record Context(ProviderRegistry Providers, CustomHostValidator Hosts, Func<string, string?> Environment)
    {
        /// <summary>Where the entry being parsed records the secret files it read.</summary>
        internal List<string>? SecretFiles { get; init; }
    }

    public static List<VirtualKey>? Parse(string text, string fileName, Context context, List<(string Path, string Message)> errors, List<string> warnings)
    {
        var isYaml = !fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        var root = isYaml ? ConfigText.ParseYaml(text, out var parseError) : ConfigText.ParseJson(text, out parseError);
        if (root is null)
        {
            errors.Add(("", parseError ?? "unreadable"));
            return null;
        }
        JsonArray? entries = root switch
        {
            JsonArray a => a,
            JsonObject o when o["virtual_keys"] is JsonArray a => a,
            _ => null,
        };
        if (entries is null)
        {
            errors.Add(("", "expected an object with a 'virtual_keys' list, or a list of virtual keys"));
            return null;
        }
        if (root is JsonObject top)
        {
            foreach (var (field, _) in top.Where(p => p.Key != "virtual_keys"))
            {
                warnings.Add($"Virtual-key file {fileName}: unknown top-level field '{field}', which is ignored");
            }
        }
        var keys = new List<VirtualKey>();
        for (var i = 0; i < entries.Count; i++)
        {
            var path = root is JsonArray ? $"$[{i}]" : $"$.virtual_keys[{i}]";
            if (entries[i] is not JsonObject entry)
            {
                errors.Add((path, "a virtual key entry must be an object"));
                continue;
            }
            if (ParseEntry(entry, path, fileName, context, errors, warnings) is { } key)
            {
                keys.Add(key);
            }
        }
        return errors.Count == 0 ? keys : null;
    }

    private static VirtualKey? ParseEntry(JsonObject entry, string path, string fileName, Context context, List<(string, string)> errors, List<string> warnings)
    {
        var before = errors.Count;
        var secretFiles = new List<string>();
        context = context with { SecretFiles = secretFiles };
        var slug = PlainString(entry, "slug", path, errors);
        if (slug is null)
        {
            errors.Add((path, "a virtual key needs a 'slug'"));
        }
        else if (!SlugShape().IsMatch(slug))
        {
            errors.Add(($"{path}.slug", $"slug '{Printable(slug)}' must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit (callers write @slug/model)"));
        }
        var label = slug is null ? path : $"virtual key '{slug}'";
        ProviderDescriptor? provider = null;
        if (PlainString(entry, "provider", path, errors) is { } providerSlug)
        {
            if (!context.Providers.TryGetProvider(providerSlug, out var d))
            {
                errors.Add(($"{path}.provider", $"{label}: unknown provider '{Printable(providerSlug)}'"));
            }
            else
            {
                provider = d;
            }
        }
        else if (!entry.ContainsKey("provider"))
        {
            errors.Add(($"{path}.provider", $"{label} needs a 'provider'"));
        }

        string? apiKey = null;
        if (entry["api_key"] is { } apiKeyNode)
        {
            apiKey = Secret(apiKeyNode, $"{path}.api_key", label, context, errors);
        }
        var description = entry["description"] is { } descriptionNode ? Text(descriptionNode, $"{path}.description", label, context, errors) : null;
        var models = List(entry, "models", path, label, errors);

        string? customHost = null;
        if (entry["custom_host"] is { } hostNode && Text(hostNode, $"{path}.custom_host", label, context, errors) is { } host)
        {
            if (context.Hosts.TryValidate(host, out var uri, out var hostError))
            {
                customHost = uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
            }
            else
            {
                errors.Add(($"{path}.custom_host", $"{label}: custom_host is not allowed: {hostError}"));
            }
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (entry["headers"] is { } headersNode)
        {
            if (headersNode is not JsonObject headerObject)
            {
                errors.Add(($"{path}.headers", $"{label}: 'headers' must be an object of header names and string values"));
            }
            else
            {
                foreach (var (name, value) in headerObject)
                {
                    var at = $"{path}.headers.{name}";
                    if (name.Length == 0 || name.AsSpan().IndexOfAnyExceptInRange('!', '~') >= 0 || name.Contains(':'))
                    {
                        errors.Add((at, $"{label}: '{Printable(name)}' is not a header name"));
                        continue;
                    }
                    var resolved = value is null ? null
                        : LooksSecret(name) ? Secret(value, at, label, context, errors) : Text(value, at, label, context, errors);
                    if (resolved is not null && IsHeaderSafe(resolved))
                    {
                        headers[name] = resolved;
                    }
                    else if (resolved is not null)
                    {
                        errors.Add((at, $"{label}: header '{name}' must be printable ASCII"));
                    }
                    else if (value is null)
                    {
                        errors.Add((at, $"{label}: header '{name}' needs a string value"));
                    }
                }
            }
        }

        var limits = Limits.LimitRules.Parse(entry, path, label, errors);

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (field, value) in entry)
        {
            if (Known.Contains(field))
            {
                continue;
            }
            var at = $"{path}.{field}";
            if (!ProviderFieldCatalog.All.Contains(field))
            {
                if (SecretFields.Contains(field) || value is not null && IsLiteralSecretShape(field))
                {
                    errors.Add((at, $"{label}: unknown field '{field}'"));
                }
                else
                {
                    warnings.Add($"Virtual-key file {fileName}: {label} has an unknown field '{field}', which is ignored");
                }
                continue;
            }
            if (provider is not null && !ProviderFieldCatalog.IsReadBy(provider, field))
            {
                warnings.Add($"Virtual-key file {fileName}: {label} sets '{field}', which provider '{provider.Slug}' does not read; it is ignored");
                continue;
            }
            if (value is null)
            {
                continue;
            }
            var resolved = SecretFields.Contains(field) ? Secret(value, at, label, context, errors) : Text(value, at, label, context, errors);
            if (resolved is null)
            {
                continue;
            }
            // vertex_service_account_json is a JSON document read by the adapter; everything else goes out in a header or URL.
            if (field != "vertex_service_account_json" && !IsHeaderSafe(resolved))
            {
                errors.Add((at, $"{label}: '{field}' must resolve to printable ASCII, as it is sent to the provider in a header or URL"));
                continue;
            }
            fields[field] = resolved;
        }

        if (errors.Count > before || slug is null || provider is null)
        {
            return null;
        }
        return new VirtualKey
        {
            Slug = slug,
            Provider = provider.Slug,
            Description = description,
            Models = models?.ToFrozenSet(StringComparer.Ordinal),
            Limits = limits,
            File = fileName,
            ApiKey = apiKey,
            CustomHost = customHost,
            Headers = headers.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            ProviderFields = fields.ToFrozenDictionary(StringComparer.Ordinal),
            SecretFiles = secretFiles,
        };
    }

    // Unknown fields are warnings, but one whose name says it holds a secret is refused: it may be a misspelt credential field.
    private static bool IsLiteralSecretShape(string field) =>
        field.EndsWith("_key", StringComparison.Ordinal) || field.EndsWith("_secret", StringComparison.Ordinal)
        || field.EndsWith("_token", StringComparison.Ordinal) || field.Contains("password", StringComparison.Ordinal);

    private static bool LooksSecret(string header) => SecretReferences.IsCredentialHeader(header);

    /// <summary>A credential: only a whole <c>${NAME}</c> reference is accepted, and it must have a value.</summary>
    private static string? Secret(JsonNode node, string at, string label, Context context, List<(string, string)> errors)
    {
        var problems = new List<string>();
        return Report(SecretReferences.ReadSecret(node, context.Environment, context.SecretFiles, problems), problems, at, label, errors);
    }

    /// <summary>A plain setting: a string, in which <c>${NAME}</c> references are resolved too.</summary>
    private static string? Text(JsonNode node, string at, string label, Context context, List<(string, string)> errors)
    {
        var problems = new List<string>();
        return Report(SecretReferences.ReadText(node, context.Environment, problems), problems, at, label, errors);
    }

    private static string? Report(string? value, List<string> problems, string at, string label, List<(string, string)> errors)
    {
        foreach (var problem in problems)
        {
            errors.Add((at, $"{label}: {problem}"));
        }
        return value;
    }

    private static string? PlainString(JsonObject entry, string field, string path, List<(string, string)> errors)
    {
        if (entry[field] is not { } node)
        {
            return null;
        }
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } s)
        {
            return s.Trim();
        }
        errors.Add(($"{path}.{field}", $"'{field}' must be a non-empty string"));
        return null;
    }

    private static List<string>? List(JsonObject entry, string field, string path, string label, List<(string, string)> errors)
    {
        if (entry[field] is not { } node)
        {
            return null;
        }
        if (node is JsonArray a && a.All(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String))
        {
            return a.Select(x => x!.GetValue<string>()).ToList();
        }
        errors.Add(($"{path}.{field}", $"{label}: '{field}' must be a list of strings"));
        return null;
    }

    private static bool IsHeaderSafe(string value) => value.AsSpan().IndexOfAnyExceptInRange('\u0020', '\u007e') < 0;

    private static string Printable(string value)
    {
        var s = value.Length > 100 ? value[..100] + "…" : value;
        return string.Concat(s.Select(c => char.IsControl(c) ? '?' : c));
    }
}
