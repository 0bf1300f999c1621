using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Switchyard.Core.Caching;

/// <summary>
/// JSON rewritten so that equal requests give equal bytes: object members sorted by name (ordinal), no whitespace.
/// Array order and number spelling are kept: both can change what a model answers.
/// </summary>
public static class CanonicalJson
{
    private static readonly JsonWriterOptions Options = new() { Indented = false, SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The canonical form, or null when <paramref name="json"/> is not valid JSON.</summary>
    public static byte[]? TryCanonicalize(ReadOnlyMemory<byte> json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var output = new ArrayBufferWriter<byte>(json.Length + 16);
            using (var writer = new Utf8JsonWriter(output, Options))
            {
                Write(writer, doc.RootElement);
            }
            return output.WrittenSpan.ToArray();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The canonical form of a JSON tree, as text.</summary>
    public static string ToText(JsonNode? node)
    {
        var output = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(output, Options))
        {
            Write(writer, node);
        }
        return System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
    }

    public static void Write(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (name, child) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(name);
                    Write(writer, child);
                }
                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var child in array)
                {
                    Write(writer, child);
                }
                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }

    public static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new List<JsonProperty>();
                var order = new List<int>();
                foreach (var p in element.EnumerateObject())
                {
                    members.Add(p);
                    order.Add(order.Count);
                }
                // Stable: equal names stay in document order.
                order.Sort((a, b) => string.CompareOrdinal(members[a].Name, members[b].Name) is var c && c != 0 ? c : a.CompareTo(b));
                members = order.ConvertAll(i => members[i]);
                writer.WriteStartObject();
                for (var i = 0; i < members.Count; i++)
                {
                    // A repeated name keeps its last value, as JSON parsers that read the body upstream do.
                    if (i + 1 < members.Count && members[i + 1].Name == members[i].Name)
                    {
                        continue;
                    }
                    writer.WritePropertyName(members[i].Name);
                    Write(writer, members[i].Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }
                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
