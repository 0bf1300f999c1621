using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Switchyard.Core.Security.ApiKeys;

/// <summary>Reads one key file (JSON or YAML): <c>{"keys": [ … ]}</c> or a bare list of key entries.</summary>
/// <remarks>A file with any error is refused whole, so a typo can never half-apply; the store then keeps its previous version.</remarks>
public static class ApiKeyFile
{
    private static readonly FrozenSet<string> Known = new[]
    {
        "id", "name", "team", "hash", "scopes", "configs", "providers", "models", "metadata", "expires_at", "disabled", "description",
        "rate_limits", "budgets", "virtual_keys", "mcp_servers", "mcp_tools",
    }.ToFrozenSet(StringComparer.Ordinal);

    public static List<ApiKey>? Parse(string text, string fileName, List<(string Path, string Message)> errors, List<string> warnings)
    {
        var isYaml = !fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        var root = isYaml ? Configs.ConfigText.ParseYaml(text, out var parseError) : Configs.ConfigText.ParseJson(text, out parseError);
        if (root is null)
        {
            errors.Add(("", parseError ?? "unreadable"));
            return null;
        }
        JsonArray? entries = root switch
        {
            JsonArray a => a,
            JsonObject o when o["keys"] is JsonArray a => a,
            _ => null,
        };
        if (entries is null)
        {
            errors.Add(("", "expected an object with a 'keys' list, or a list of keys"));
            return null;
        }
        var keys = new List<ApiKey>();
        for (var i = 0; i < entries.Count; i++)
        {
            var path = root is JsonArray ? $"$[{i}]" : $"$.keys[{i}]";
            if (entries[i] is not JsonObject entry)
            {
                errors.Add((path, "a key entry must be an object"));
                continue;
            }
            if (ParseEntry(entry, path, fileName, errors, warnings) is { } key)
            {
                keys.Add(key);
            }
        }
        return errors.Count == 0 ? keys : null;
    }

    private static ApiKey? ParseEntry(JsonObject entry, string path, string fileName, List<(string, string)> errors, List<string> warnings)
    {
        var before = errors.Count;
        var name = String(entry, "name", path, errors) ?? String(entry, "id", path, errors);
        if (name is null)
        {
            errors.Add((path, "a key needs a 'name' (or 'id')"));
        }
        var label = name ?? path;
        if (entry.ContainsKey("key"))
        {
            // Never echo the value: it is a secret that should not be in the file at all.
            errors.Add(($"{path}.key", $"key '{label}' holds a plaintext 'key'; store only its hash: run `Switchyard.Gateway hash-key <key>` and write the printed value as 'hash'"));
        }
        byte[]? hash = null;
        if (String(entry, "hash", path, errors) is { } hashText)
        {
            hash = ApiKeyHash.Parse(hashText);
            if (hash is null)
            {
                errors.Add(($"{path}.hash", $"key '{label}': 'hash' must be sha256:<64 hex digits> (see `Switchyard.Gateway hash-key`)"));
            }
        }
        else
        {
            errors.Add(($"{path}.hash", $"key '{label}' needs a 'hash'"));
        }
        var scopes = List(entry, "scopes", path, errors) ?? [];
        foreach (var scope in scopes.Where(s => !ApiKeyScopes.All.Contains(s)))
        {
            errors.Add(($"{path}.scopes", $"key '{label}': unknown scope '{scope}' (known: {string.Join(", ", ApiKeyScopes.All.Order(StringComparer.Ordinal))})"));
        }
        var configs = List(entry, "configs", path, errors);
        var providers = List(entry, "providers", path, errors);
        var models = List(entry, "models", path, errors);
        var virtualKeys = List(entry, "virtual_keys", path, errors);
        var mcpServers = List(entry, "mcp_servers", path, errors);
        var mcpTools = List(entry, "mcp_tools", path, errors);
        foreach (var tool in mcpTools ?? [])
        {
            // server/tool or server/*; the server id may itself hold a workspace (acme/fs/read_file), so the last slash splits.
            var slash = tool.LastIndexOf('/');
            if (slash <= 0 || slash == tool.Length - 1)
            {
                errors.Add(($"{path}.mcp_tools", $"key '{label}': MCP tool entry '{tool}' must be 'server/tool' or 'server/*'"));
            }
        }
        var limits = Limits.LimitRules.Parse(entry, path, $"key '{label}'", errors);
        JsonObject? metadata = null;
        if (entry["metadata"] is { } m)
        {
            if (m is JsonObject mo && mo.All(p => p.Value is JsonValue v && v.GetValueKind() == JsonValueKind.String))
            {
                metadata = (JsonObject)mo.DeepClone();
            }
            else
            {
                errors.Add(($"{path}.metadata", $"key '{label}': 'metadata' must be an object of string values"));
            }
        }
        DateTimeOffset? expires = null;
        if (String(entry, "expires_at", path, errors) is { } expiresText)
        {
            if (DateTimeOffset.TryParse(expiresText, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)
                && (expiresText.EndsWith('Z') || expiresText.EndsWith('z') || expiresText.LastIndexOfAny(['+', '-']) > 10))
            {
                expires = at;
            }
            else
            {
                errors.Add(($"{path}.expires_at", $"key '{label}': 'expires_at' must be an RFC 3339 time with a zone, such as 2027-01-31T00:00:00Z"));
            }
        }
        var disabled = false;
        if (entry["disabled"] is { } d)
        {
            if (d is JsonValue dv && dv.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
            {
                disabled = dv.GetValue<bool>();
            }
            else
            {
                errors.Add(($"{path}.disabled", $"key '{label}': 'disabled' must be true or false"));
            }
        }
        foreach (var (field, _) in entry)
        {
            if (!Known.Contains(field) && field != "key")
            {
                warnings.Add($"Key file {fileName}: key '{label}' has an unknown field '{field}', which is ignored");
            }
        }
        if (errors.Count > before || name is null || hash is null)
        {
            return null;
        }
        return new ApiKey
        {
            Name = name,
            Team = String(entry, "team", path, errors),
            Hash = hash,
            Scopes = scopes.ToFrozenSet(StringComparer.Ordinal),
            Configs = configs?.ToFrozenSet(StringComparer.Ordinal),
            Providers = providers?.ToFrozenSet(StringComparer.OrdinalIgnoreCase),
            Models = models?.ToFrozenSet(StringComparer.Ordinal),
            VirtualKeys = virtualKeys?.ToFrozenSet(StringComparer.Ordinal),
            McpServers = mcpServers?.ToFrozenSet(StringComparer.Ordinal),
            McpTools = mcpTools?.ToFrozenSet(StringComparer.Ordinal),
            Limits = limits,
            Metadata = metadata,
            ExpiresAt = expires,
            Disabled = disabled,
            File = fileName,
        };
    }

    private static string? String(JsonObject entry, string field, string path, List<(string, string)> errors)
    {
        if (entry[field] is not { } node)
        {
            return null;
        }
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } s)
        {
            return s;
        }
        errors.Add(($"{path}.{field}", $"'{field}' must be a non-empty string"));
        return null;
    }

    private static List<string>? List(JsonObject entry, string field, string path, List<(string, string)> errors)
    {
        if (entry[field] is not { } node)
        {
            return null;
        }
        if (node is JsonArray a && a.All(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String))
        {
            return a.Select(x => x!.GetValue<string>()).ToList();
        }
        errors.Add(($"{path}.{field}", $"'{field}' must be a list of strings"));
        return null;
    }
}
