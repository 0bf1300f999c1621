using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Switchyard.Core.Security.ApiKeys;

namespace Switchyard.Gateway.Endpoints.Admin;

/// <summary>
/// <c>/v1/admin/keys</c>: lists gateway keys without hashes; creates keys in and revokes them from <c>API_KEYS_WRITABLE_FILE</c>.
/// Keys in every other file are git-managed: listed, never changed here.
/// </summary>
/// <remarks>Without a key store (no <c>API_KEYS_PATH</c>, as in a JWT-only mode) there are no keys to list and none to change.</remarks>
internal sealed partial class AdminKeysEndpoint(ApiKeyStore? store, ApiKeyFileWriter? writer)
{
    private const int MaxBodyBytes = 64 * 1024;

    private static readonly string[] Fields =
    [
        "name", "team", "description", "scopes", "configs", "providers", "models", "virtual_keys", "metadata", "expires_at", "disabled",
        "rate_limits", "budgets",
    ];

    // One change at a time: read-modify-write of the file and the reload that follows must not interleave.
    private readonly SemaphoreSlim _writes = new(1, 1);

    private string? WritableFile => writer?.FileName;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex NamePattern();

    public Task ListAsync(HttpContext context)
    {
        var snapshot = store?.Current ?? ApiKeySnapshot.Empty;
        return AdminResponses.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("generation", snapshot.Generation);
            AdminResponses.WriteNullable(json, "writable_file", WritableFile);
            var count = 0;
            json.WriteStartArray("keys");
            foreach (var key in AllKeys(snapshot))
            {
                AdminResponses.WriteKey(json, key, WritableFile);
                count++;
            }
            json.WriteEndArray();
            json.WriteNumber("count", count);
            json.WriteEndObject();
        });
    }

    public Task GetAsync(HttpContext context, string name)
    {
        // The first by file name when two files use one name, as the store's own "first wins" reads them.
        var key = AllKeys(store?.Current ?? ApiKeySnapshot.Empty).FirstOrDefault(k => k.Name == name);
        return key is null
            ? AdminResponses.ErrorAsync(context, StatusCodes.Status404NotFound, "not_found", $"No key named '{Printable(name)}'")
            : AdminResponses.WriteAsync(context, StatusCodes.Status200OK, json => AdminResponses.WriteKey(json, key, WritableFile));
    }

    public async Task CreateAsync(HttpContext context)
    {
        if (writer is null || store is null)
        {
            await NotWritableAsync(context);
            return;
        }
        var body = await AdminResponses.ReadObjectAsync(context, MaxBodyBytes);
        if (body is null)
        {
            return;
        }
        var problems = new List<(string Path, string Message)>();
        foreach (var (field, _) in body)
        {
            switch (field)
            {
                case "key" or "hash":
                    problems.Add(($"$.{field}", $"'{field}' cannot be given: the gateway makes the key and stores only its hash"));
                    break;
                case "id":
                    problems.Add(("$.id", "use 'name' for the key's name"));
                    break;
                default:
                    if (!Fields.Contains(field))
                    {
                        problems.Add(($"$.{field}", $"unknown field '{field}' (known: {string.Join(", ", Fields)})"));
                    }
                    break;
            }
        }
        var name = body["name"] is JsonValue nv && nv.GetValueKind() == JsonValueKind.String ? nv.GetValue<string>() : null;
        if (name is null || !NamePattern().IsMatch(name))
        {
            problems.Add(("$.name", "'name' is required: 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit"));
        }
        if (body["scopes"] is not JsonArray { Count: > 0 })
        {
            problems.Add(("$.scopes", $"'scopes' is required: a non-empty list of {string.Join(", ", ApiKeyScopes.All.Order(StringComparer.Ordinal))}"));
        }
        if (problems.Count > 0)
        {
            await AdminResponses.ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_body", "The key cannot be created", problems);
            return;
        }

        var plaintext = ApiKeyHash.Generate();
        var entry = new JsonObject();
        foreach (var field in Fields)
        {
            if (body[field] is { } value)
            {
                entry[field] = value.DeepClone();
            }
            if (field == "description")
            {
                // The hash sits next to the name, where a reader of the file looks for it.
                entry["hash"] = ApiKeyHash.Format(plaintext);
            }
        }
        // The key file's own rules judge the entry, so the API accepts exactly what a file would.
        var warnings = new List<string>();
        var single = new JsonObject { ["keys"] = new JsonArray(entry.DeepClone()) };
        ApiKeyFile.Parse(single.ToJsonString(), "request.json", problems, warnings);
        if (problems.Count > 0)
        {
            await AdminResponses.ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_body", "The key cannot be created",
                problems.Select(p => (p.Path.Replace("$.keys[0]", "$", StringComparison.Ordinal), p.Message)).ToList());
            return;
        }

        await _writes.WaitAsync(context.RequestAborted);
        try
        {
            if (AllKeys(store.Current).FirstOrDefault(k => k.Name == name) is { } existing)
            {
                await AdminResponses.ErrorAsync(context, StatusCodes.Status409Conflict, "name_taken", $"A key named '{name}' already exists in {existing.File}");
                return;
            }
            var change = writer.Add(entry);
            if (!change.Succeeded)
            {
                await ChangeFailedAsync(context, change);
                return;
            }
            // Reloaded now rather than by the watcher: the key works as soon as the caller has it.
            store.Reload();
            var created = store.Find(plaintext);
            if (created is null)
            {
                await AdminResponses.ErrorAsync(context, StatusCodes.Status500InternalServerError, "not_loaded",
                    $"The key was written to {writer.FileName} but did not load; see keys.problems in /v1/health");
                return;
            }
            context.Response.Headers.Location = $"/v1/admin/keys/{Uri.EscapeDataString(created.Name)}";
            await AdminResponses.WriteAsync(context, StatusCodes.Status201Created, json =>
            {
                json.WriteStartObject();
                json.WriteString("key", plaintext);
                json.WriteString("message", "Give this key to its user now: only its hash is kept, and it cannot be shown again");
                json.WritePropertyName("api_key");
                AdminResponses.WriteKey(json, created, WritableFile);
                // The file's own warnings for this entry (a field not enforced yet, say), with the file name the store would use.
                AdminResponses.WriteStrings(json, "warnings", warnings.Select(w => w.Replace("request.json", writer.FileName, StringComparison.Ordinal)));
                json.WriteEndObject();
            });
        }
        finally
        {
            _writes.Release();
        }
    }

    public async Task RevokeAsync(HttpContext context, string name)
    {
        if (writer is null || store is null)
        {
            await NotWritableAsync(context);
            return;
        }
        await _writes.WaitAsync(context.RequestAborted);
        try
        {
            var change = writer.Remove(name);
            if (change.Error == KeyFileChangeError.NotFound)
            {
                if (AllKeys(store.Current).FirstOrDefault(k => k.Name == name) is { } elsewhere)
                {
                    await AdminResponses.ErrorAsync(context, StatusCodes.Status409Conflict, "not_writable",
                        $"Key '{Printable(name)}' is defined in {elsewhere.File}, which the admin API does not manage (only API_KEYS_WRITABLE_FILE, {writer.FileName}); revoke it by removing it from {elsewhere.File}");
                    return;
                }
                await AdminResponses.ErrorAsync(context, StatusCodes.Status404NotFound, "not_found", $"No key named '{Printable(name)}'");
                return;
            }
            if (!change.Succeeded)
            {
                await ChangeFailedAsync(context, change);
                return;
            }
            // Refused from the next request on, not after the watcher's debounce.
            store.Reload();
            var snapshot = store.Current;
            var stillIn = AllKeys(snapshot).Where(k => k.Name == name).Select(k => k.File).Distinct().ToList();
            await AdminResponses.WriteAsync(context, StatusCodes.Status200OK, json =>
            {
                json.WriteStartObject();
                json.WriteString("revoked", name);
                json.WriteString("file", writer.FileName);
                json.WriteNumber("generation", snapshot.Generation);
                // A key of the same name in a git-managed file is a different key; say so rather than imply it is gone too.
                AdminResponses.WriteStrings(json, "still_defined_in", stillIn);
                json.WriteEndObject();
            });
        }
        finally
        {
            _writes.Release();
        }
    }

    private static IEnumerable<ApiKey> AllKeys(ApiKeySnapshot snapshot) =>
        snapshot.ByFile.OrderBy(f => f.Key, StringComparer.Ordinal).SelectMany(f => f.Value);

    private static Task NotWritableAsync(HttpContext context)
    {
        context.Response.Headers.Allow = "GET";
        return AdminResponses.ErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "not_writable",
            "Keys cannot be created or revoked here: no writable key file is configured. Set API_KEYS_WRITABLE_FILE to a key file inside API_KEYS_PATH, or change the key files directly");
    }

    private static Task ChangeFailedAsync(HttpContext context, KeyFileChange change) => change.Error switch
    {
        KeyFileChangeError.NameTaken => AdminResponses.ErrorAsync(context, StatusCodes.Status409Conflict, "name_taken", change.Message),
        KeyFileChangeError.FileInvalid => AdminResponses.ErrorAsync(context, StatusCodes.Status409Conflict, "file_invalid", change.Message, change.Problems),
        KeyFileChangeError.EntryInvalid => AdminResponses.ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_body", change.Message, change.Problems),
        _ => AdminResponses.ErrorAsync(context, StatusCodes.Status500InternalServerError, "write_failed", change.Message),
    };

    private static string Printable(string value)
    {
        var s = value.Length > 100 ? value[..100] + "…" : value;
        return new string(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());
    }
}
