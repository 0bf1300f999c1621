using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Switchyard.Core.Configs;

/// <summary>
/// Writes a JSON tree as block-style YAML that <see cref="ConfigText.ParseYaml"/> reads back to the same tree. Strings are always
/// double-quoted with JSON escapes (a subset of YAML's), so no value can turn into a number, boolean, null or comment on reading.
/// </summary>
public static class YamlText
{
    public static string Write(JsonNode? root, string? headerComment = null)
    {
        var b = new StringBuilder();
        if (headerComment is not null)
        {
            foreach (var line in headerComment.Split('\n'))
            {
                b.Append("# ").Append(line).Append('\n');
            }
        }
        foreach (var line in Lines(root))
        {
            b.Append(line).Append('\n');
        }
        return b.ToString();
    }

    private static List<string> Lines(JsonNode? node)
    {
        var lines = new List<string>();
        switch (node)
        {
            case JsonObject o when o.Count > 0:
                foreach (var (name, value) in o)
                {
                    var key = Key(name);
                    if (IsBlock(value))
                    {
                        lines.Add(key + ":");
                        lines.AddRange(Lines(value).Select(l => "  " + l));
                    }
                    else
                    {
                        lines.Add($"{key}: {Inline(value)}");
                    }
                }
                break;
            case JsonArray a when a.Count > 0 && !a.All(IsScalar):
                foreach (var item in a)
                {
                    if (IsBlock(item))
                    {
                        var inner = Lines(item);
                        // A mapping item starts on the dash's line; a nested list goes below it.
                        if (item is JsonObject)
                        {
                            lines.Add("- " + inner[0]);
                            lines.AddRange(inner.Skip(1).Select(l => "  " + l));
                        }
                        else
                        {
                            lines.Add("-");
                            lines.AddRange(inner.Select(l => "  " + l));
                        }
                    }
                    else
                    {
                        lines.Add("- " + Inline(item));
                    }
                }
                break;
            default:
                lines.Add(Inline(node));
                break;
        }
        return lines;
    }

    private static bool IsScalar(JsonNode? node) => node is null or JsonValue;

    /// <summary>Non-empty mappings, and lists holding more than scalars, are written as blocks; the rest fit on one line.</summary>
    private static bool IsBlock(JsonNode? node) => node switch
    {
        JsonObject o => o.Count > 0,
        JsonArray a => a.Count > 0 && !a.All(IsScalar),
        _ => false,
    };

    private static string Inline(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "{}",
        JsonArray a => "[" + string.Join(", ", a.Select(Inline)) + "]",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => Quote(v.GetValue<string>()),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Null => "null",
            _ => v.ToJsonString(),
        },
        _ => "null",
    };

    private static string Key(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') && char.IsAsciiLetter(name[0])
            && name is not ("true" or "false" or "null" or "True" or "False" or "Null" or "TRUE" or "FALSE" or "NULL")
            ? name
            : Quote(name);

    private static string Quote(string value)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStringValue(value);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
