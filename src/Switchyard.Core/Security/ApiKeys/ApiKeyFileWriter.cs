using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Configs;

namespace Switchyard.Core.Security.ApiKeys;

/// <summary>Why a change to the writable key file was not made.</summary>
public enum KeyFileChangeError
{
    None,

    /// <summary>The file as it is now does not load (hand-edited, say): rewriting it would lose or keep broken content.</summary>
    FileInvalid,

    /// <summary>The entry's name is already taken in the file.</summary>
    NameTaken,

    /// <summary>No entry of that name in the file.</summary>
    NotFound,

    /// <summary>The file after the change would not load (the entry itself is invalid).</summary>
    EntryInvalid,

    /// <summary>The file could not be read or written (permissions, a read-only volume, a full disk).</summary>
    Io,
}

/// <summary>The outcome of one change: what went wrong, and the problems found (JSON path, message).</summary>
public sealed record KeyFileChange(KeyFileChangeError Error, string Message, IReadOnlyList<(string Path, string Message)> Problems)
{
    public static readonly KeyFileChange Done = new(KeyFileChangeError.None, "", []);

    public bool Succeeded => Error == KeyFileChangeError.None;
}

/// <summary>
/// Adds and removes entries in the one key file the admin API manages (<c>API_KEYS_WRITABLE_FILE</c>). Every change is validated by
/// parsing the text about to be written with <see cref="ApiKeyFile"/>'s rules, then written atomically (a temp file in the same
/// directory, renamed over the old one), so the store's watcher never sees half a file. Callers serialize changes.
/// </summary>
public sealed class ApiKeyFileWriter(string path)
{
    private const string Header = "Managed by the Switchyard admin API (API_KEYS_WRITABLE_FILE). It rewrites this file on every change:\n"
                                  + "edits to entries are kept, comments are not.";

    public string FullPath { get; } = Path.GetFullPath(path);

    public string FileName => Path.GetFileName(FullPath);

    private bool IsJson => FullPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    /// <summary>The names of the entries in the file now; null when the file does not load.</summary>
    public IReadOnlyList<string>? Names()
    {
        var (entries, _, error) = Read();
        return error is null ? entries!.Select(EntryName).OfType<string>().ToList() : null;
    }

    /// <summary>Appends <paramref name="entry"/> (a key-file entry with a <c>hash</c>, never a key).</summary>
    public KeyFileChange Add(JsonObject entry)
    {
        var (entries, root, error) = Read();
        if (error is not null)
        {
            return error;
        }
        var name = EntryName(entry);
        if (name is not null && entries!.Any(e => EntryName(e) == name))
        {
            return new KeyFileChange(KeyFileChangeError.NameTaken, $"a key named '{name}' is already in {FileName}", []);
        }
        entries!.Add(entry.DeepClone());
        return Write(root!);
    }

    /// <summary>Removes every entry named <paramref name="name"/> (by <c>name</c>, or <c>id</c> when it has no name).</summary>
    public KeyFileChange Remove(string name)
    {
        var (entries, root, error) = Read();
        if (error is not null)
        {
            return error;
        }
        var removed = 0;
        for (var i = entries!.Count - 1; i >= 0; i--)
        {
            if (EntryName(entries[i]) == name)
            {
                entries.RemoveAt(i);
                removed++;
            }
        }
        return removed == 0 ? new KeyFileChange(KeyFileChangeError.NotFound, $"no key named '{name}' in {FileName}", []) : Write(root!);
    }

    private static string? EntryName(JsonNode? entry) => entry is JsonObject o
        ? (o["name"] ?? o["id"]) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null
        : null;

    /// <summary>The file's entry list and root (a missing file is an empty <c>{"keys": []}</c>), or why it cannot be changed.</summary>
    private (JsonArray? Entries, JsonNode? Root, KeyFileChange? Error) Read()
    {
        string text;
        try
        {
            if (!File.Exists(FullPath))
            {
                var fresh = new JsonObject { ["keys"] = new JsonArray() };
                return ((JsonArray)fresh["keys"]!, fresh, null);
            }
            text = File.ReadAllText(FullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, null, new KeyFileChange(KeyFileChangeError.Io, $"{FileName} cannot be read: {ex.Message}", []));
        }
        var problems = new List<(string Path, string Message)>();
        var root = IsJson ? ConfigText.ParseJson(text, out var parseError) : ConfigText.ParseYaml(text, out parseError);
        if (root is null && text.Trim().Length == 0)
        {
            // An empty file (touched by an operator to create it) holds no keys; it is not broken.
            var fresh = new JsonObject { ["keys"] = new JsonArray() };
            return ((JsonArray)fresh["keys"]!, fresh, null);
        }
        if (root is not null)
        {
            ApiKeyFile.Parse(text, FileName, problems, []);
        }
        else
        {
            problems.Add(("", parseError ?? "unreadable"));
        }
        var entries = root switch
        {
            JsonArray a => a,
            JsonObject o when o["keys"] is JsonArray a => a,
            _ => null,
        };
        if (problems.Count > 0 || entries is null)
        {
            return (null, null, new KeyFileChange(KeyFileChangeError.FileInvalid,
                $"{FileName} does not load as it is now; fix it by hand before the admin API changes it", problems));
        }
        return (entries, root, null);
    }

    private KeyFileChange Write(JsonNode root)
    {
        var text = IsJson ? JsonText(root) : YamlText.Write(root, Header);
        var problems = new List<(string Path, string Message)>();
        var parsed = IsJson ? ConfigText.ParseJson(text, out var parseError) : ConfigText.ParseYaml(text, out parseError);
        if (parsed is null)
        {
            problems.Add(("", parseError ?? "unreadable"));
        }
        else
        {
            ApiKeyFile.Parse(text, FileName, problems, []);
            // The text must read back as exactly the tree meant to be written: a value the writer cannot express is refused, not mangled.
            if (problems.Count == 0 && !JsonNode.DeepEquals(parsed, root))
            {
                problems.Add(("", "a value cannot be written to this file unchanged"));
            }
        }
        if (problems.Count > 0)
        {
            return new KeyFileChange(KeyFileChangeError.EntryInvalid, $"the change would make {FileName} invalid", problems);
        }
        try
        {
            WriteAtomically(FullPath, Encoding.UTF8.GetBytes(text));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new KeyFileChange(KeyFileChangeError.Io, $"{FileName} cannot be written: {ex.Message}", []);
        }
        return KeyFileChange.Done;
    }

    private static string JsonText(JsonNode root)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            root.WriteTo(json);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) + "\n";
    }

    /// <summary>Writes a temp file next to <paramref name="target"/> and renames it over the target (atomic on one file system).</summary>
    private static void WriteAtomically(string target, byte[] bytes)
    {
        var directory = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(directory);
        // A leading dot: the store skips such names, so the watcher never loads the temp file as a second key file.
        var temp = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows() && File.Exists(target))
            {
                // Keep the mode the operator gave the file (0600, say) rather than the process's umask default.
                File.SetUnixFileMode(temp, File.GetUnixFileMode(target));
            }
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
