using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Switchyard.Gateway.Mcp.Policy;

/// <summary>One pinned tool definition as the admin API shows it.</summary>
/// <param name="Server">The upstream server id.</param>
/// <param name="Tool">The upstream's own tool name.</param>
/// <param name="Hash">The pinned definition's hash (<c>sha256:</c> hex of its canonical JSON).</param>
/// <param name="CurrentHash">The hash the upstream lists now, when it differs from <paramref name="Hash"/>; null otherwise.</param>
/// <param name="ChangedFields">The fields that differ (<c>description</c>, <c>inputSchema</c>, …); empty when unchanged.</param>
/// <param name="FirstSeen">When the tool was first pinned (or last accepted).</param>
/// <param name="ChangedAt">When the current change was first seen; null when unchanged.</param>
public sealed record McpToolPin(string Server, string Tool, string Hash, string? CurrentHash, IReadOnlyList<string> ChangedFields,
    DateTimeOffset FirstSeen, DateTimeOffset? ChangedAt)
{
    public bool Changed => CurrentHash is not null;
}

/// <summary>What <see cref="McpToolPins.Observe"/> found for one tool.</summary>
public enum McpPinVerdict
{
    /// <summary>The definition equals the pin (or was just pinned on first sight).</summary>
    Unchanged,

    /// <summary>The definition differs from the pin.</summary>
    Changed,
}

/// <summary>
/// Tool-definition pins: the hash of each tool's definition per (server, tool), first seen pinned, persisted as JSON in one file
/// (written atomically: a temp file, then a rename) so pins survive restarts; without a file they live in memory. A change is
/// logged once (a warning naming the server, the tool and the changed fields) and counted in
/// <c>switchyard.mcp.tool_definition.changes</c> (Prometheus: <c>switchyard_mcp_tool_definition_changes_total{server,mode}</c>).
/// </summary>
public sealed class McpToolPins
{
    /// <summary>The fields of a tool definition that are hashed; anything else (icons, <c>_meta</c>) may change freely.</summary>
    public static readonly IReadOnlyList<string> HashedFields = ["name", "title", "description", "inputSchema", "outputSchema", "annotations"];

    /// <summary>The pin file's name under the data path.</summary>
    public const string FileName = "mcp-tool-pins.json";

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Server, string Tool), Entry> _pins = [];
    private readonly string? _path;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Counter<long>? _changes;

    private sealed class Entry
    {
        public required string Hash;
        public required Dictionary<string, string> Fields;
        public DateTimeOffset FirstSeen;
        public string? CurrentHash;
        public Dictionary<string, string>? CurrentFields;
        public DateTimeOffset? ChangedAt;
    }

    /// <param name="path">The pin file; null keeps pins in memory only.</param>
    public McpToolPins(string? path, TimeProvider time, ILogger logger, Meter? meter = null)
    {
        _path = path is null ? null : Path.GetFullPath(path);
        _time = time;
        _logger = logger;
        _changes = meter?.CreateCounter<long>("switchyard.mcp.tool_definition.changes", "{change}",
            "Upstream tool definitions seen to differ from their pin, by server and pinning mode (alert or block)");
        Load();
    }

    /// <summary>The pin file, or null when pins are kept in memory.</summary>
    public string? FilePath => _path;

    /// <summary>Hashes <paramref name="tool"/> and compares it with its pin: first sight pins it; a change is recorded (once per distinct change).</summary>
    public McpPinVerdict Observe(McpUpstreamServer server, Tool tool) => ObserveAll(server, [tool])[0];

    /// <summary>
    /// <see cref="Observe(McpUpstreamServer, Tool)"/> for every tool of one listing, with one write of the pin file at most;
    /// the verdicts are in the order of <paramref name="tools"/>.
    /// </summary>
    public McpPinVerdict[] ObserveAll(McpUpstreamServer server, IReadOnlyList<Tool> tools)
    {
        var verdicts = new McpPinVerdict[tools.Count];
        var hashed = new (string Hash, Dictionary<string, string> Fields)[tools.Count];
        for (var i = 0; i < tools.Count; i++)
        {
            hashed[i] = (Hash(tools[i]), FieldHashes(tools[i]));
        }
        List<(string Tool, List<string> Fields)>? changes = null;
        lock (_lock)
        {
            var dirty = false;
            for (var i = 0; i < tools.Count; i++)
            {
                var (hash, fields) = hashed[i];
                var key = (server.Id, tools[i].Name);
                if (!_pins.TryGetValue(key, out var entry))
                {
                    _pins[key] = new Entry { Hash = hash, Fields = fields, FirstSeen = _time.GetUtcNow() };
                    dirty = true;
                    continue;
                }
                if (entry.Hash == hash)
                {
                    if (entry.CurrentHash is not null)
                    {
                        // Changed back to what was pinned.
                        entry.CurrentHash = null;
                        entry.CurrentFields = null;
                        entry.ChangedAt = null;
                        dirty = true;
                    }
                    continue;
                }
                verdicts[i] = McpPinVerdict.Changed;
                if (entry.CurrentHash == hash)
                {
                    continue;
                }
                entry.CurrentHash = hash;
                entry.CurrentFields = fields;
                entry.ChangedAt = _time.GetUtcNow();
                (changes ??= []).Add((tools[i].Name, Diff(entry.Fields, fields)));
                dirty = true;
            }
            if (dirty)
            {
                SaveLocked();
            }
        }
        var mode = server.Pinning == McpPinMode.Block ? "block" : "alert";
        foreach (var (tool, fields) in changes ?? [])
        {
            _logger.LogWarning(
                "MCP tool definition changed: server {Server}, tool {Tool}, fields {Fields}; pinning mode {Mode} ({Effect}). Accept it with POST /v1/admin/mcp/pins/{ServerPath}/{ToolPath}/accept",
                server.Id, tool, string.Join(", ", fields), mode,
                mode == "block" ? "the tool is hidden and its calls refused until accepted" : "the tool is still served",
                Uri.EscapeDataString(server.Id), Uri.EscapeDataString(tool));
            _changes?.Add(1, new KeyValuePair<string, object?>("server", server.Id), new KeyValuePair<string, object?>("mode", mode));
        }
        return verdicts;
    }

    /// <summary>Whether the tool's current definition differs from its pin.</summary>
    public bool IsChanged(string server, string tool)
    {
        lock (_lock)
        {
            return _pins.TryGetValue((server, tool), out var entry) && entry.CurrentHash is not null;
        }
    }

    /// <summary>Every pin, by server then tool.</summary>
    public IReadOnlyList<McpToolPin> List()
    {
        lock (_lock)
        {
            return _pins.OrderBy(p => p.Key.Server, StringComparer.Ordinal).ThenBy(p => p.Key.Tool, StringComparer.Ordinal)
                .Select(p => ToPin(p.Key, p.Value)).ToList();
        }
    }

    /// <summary>The pin of one tool, or null.</summary>
    public McpToolPin? Get(string server, string tool)
    {
        lock (_lock)
        {
            return _pins.TryGetValue((server, tool), out var entry) ? ToPin((server, tool), entry) : null;
        }
    }

    /// <summary>Makes the current definition the pin; false when there is no such pin. Accepting an unchanged pin changes nothing.</summary>
    public bool Accept(string server, string tool)
    {
        lock (_lock)
        {
            if (!_pins.TryGetValue((server, tool), out var entry))
            {
                return false;
            }
            if (entry.CurrentHash is { } current)
            {
                entry.Hash = current;
                entry.Fields = entry.CurrentFields!;
                entry.FirstSeen = _time.GetUtcNow();
                entry.CurrentHash = null;
                entry.CurrentFields = null;
                entry.ChangedAt = null;
                SaveLocked();
            }
            return true;
        }
    }

    /// <summary>Forgets a pin (the next listing pins the tool afresh); false when there is no such pin.</summary>
    public bool Forget(string server, string tool)
    {
        lock (_lock)
        {
            if (!_pins.Remove((server, tool)))
            {
                return false;
            }
            SaveLocked();
            return true;
        }
    }

    /// <summary>The definition's hash: <c>sha256:</c> and the hex SHA-256 of the canonical JSON of its hashed fields.</summary>
    public static string Hash(Tool tool) => "sha256:" + Sha256(Canonical(Definition(tool)));

    /// <summary>Canonical JSON: object keys sorted by ordinal, no whitespace, arrays in order, strings and numbers as System.Text.Json writes them.</summary>
    public static string Canonical(JsonNode? node)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, SkipValidation = false }))
        {
            WriteCanonical(json, node);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static JsonObject Definition(Tool tool)
    {
        var all = JsonSerializer.SerializeToNode(tool, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(Tool))) as JsonObject ?? [];
        var picked = new JsonObject();
        foreach (var field in HashedFields)
        {
            if (all[field] is { } value && value.GetValueKind() != JsonValueKind.Null)
            {
                picked[field] = value.DeepClone();
            }
        }
        return picked;
    }

    private static Dictionary<string, string> FieldHashes(Tool tool)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in Definition(tool))
        {
            fields[name] = Sha256(Canonical(value));
        }
        return fields;
    }

    private static List<string> Diff(Dictionary<string, string> pinned, Dictionary<string, string> current) =>
        HashedFields.Where(f => pinned.GetValueOrDefault(f) != current.GetValueOrDefault(f)).ToList();

    private static void WriteCanonical(Utf8JsonWriter json, JsonNode? node)
    {
        switch (node)
        {
            case null:
                json.WriteNullValue();
                break;
            case JsonObject obj:
                json.WriteStartObject();
                foreach (var (name, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    json.WritePropertyName(name);
                    WriteCanonical(json, value);
                }
                json.WriteEndObject();
                break;
            case JsonArray array:
                json.WriteStartArray();
                foreach (var item in array)
                {
                    WriteCanonical(json, item);
                }
                json.WriteEndArray();
                break;
            default:
                node.WriteTo(json);
                break;
        }
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static McpToolPin ToPin((string Server, string Tool) key, Entry e) =>
        new(key.Server, key.Tool, e.Hash, e.CurrentHash, e.CurrentFields is null ? [] : Diff(e.Fields, e.CurrentFields), e.FirstSeen, e.ChangedAt);

    private void Load()
    {
        if (_path is null || !File.Exists(_path))
        {
            return;
        }
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(_path)) as JsonObject;
            foreach (var item in root?["pins"] as JsonArray ?? [])
            {
                if (item is not JsonObject pin || pin["server"]?.GetValue<string>() is not { } server || pin["tool"]?.GetValue<string>() is not { } tool
                    || pin["hash"]?.GetValue<string>() is not { } hash)
                {
                    continue;
                }
                _pins[(server, tool)] = new Entry
                {
                    Hash = hash,
                    Fields = ReadFields(pin["fields"]) ?? [],
                    FirstSeen = pin["first_seen"]?.GetValue<DateTimeOffset>() ?? _time.GetUtcNow(),
                    CurrentHash = pin["current_hash"]?.GetValue<string>(),
                    CurrentFields = ReadFields(pin["current_fields"]),
                    ChangedAt = pin["changed_at"]?.GetValue<DateTimeOffset>(),
                };
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException)
        {
            // A pin file that does not read is not silently replaced: it is left as it is and pins start empty (first sight pins again).
            _logger.LogError("MCP tool pin file {Path} could not be read ({Error}); tool pins start empty and the file is not overwritten until it is fixed or removed",
                _path, e.Message);
            _unreadable = true;
        }
    }

    private bool _unreadable;

    private static Dictionary<string, string>? ReadFields(JsonNode? node)
    {
        if (node is not JsonObject obj)
        {
            return null;
        }
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in obj)
        {
            if (value?.GetValue<string>() is { } hash)
            {
                fields[name] = hash;
            }
        }
        return fields;
    }

    private void SaveLocked()
    {
        if (_path is null || _unreadable)
        {
            return;
        }
        var pins = new JsonArray();
        foreach (var ((server, tool), e) in _pins.OrderBy(p => p.Key.Server, StringComparer.Ordinal).ThenBy(p => p.Key.Tool, StringComparer.Ordinal))
        {
            var pin = new JsonObject
            {
                ["server"] = server,
                ["tool"] = tool,
                ["hash"] = e.Hash,
                ["fields"] = Fields(e.Fields),
                ["first_seen"] = e.FirstSeen,
            };
            if (e.CurrentHash is not null)
            {
                pin["current_hash"] = e.CurrentHash;
                pin["current_fields"] = Fields(e.CurrentFields!);
                pin["changed_at"] = e.ChangedAt;
            }
            pins.Add((JsonNode)pin);
        }
        var text = new JsonObject { ["version"] = 1, ["pins"] = pins }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        var temp = _path + ".tmp-" + Environment.ProcessId;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            File.WriteAllText(temp, text);
            File.Move(temp, _path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogError("MCP tool pins could not be written to {Path} ({Error}); they are kept in memory until the next change", _path, e.Message);
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
                // Best effort: the temp file may not exist.
            }
        }
    }

    private static JsonObject Fields(Dictionary<string, string> fields)
    {
        var obj = new JsonObject();
        foreach (var (name, hash) in fields.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            obj[name] = hash;
        }
        return obj;
    }
}
