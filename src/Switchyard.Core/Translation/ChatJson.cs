using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Switchyard.Core.Translation;

/// <summary>Small JSON helpers shared by dialects and ingress protocols.</summary>
public static class ChatJson
{
    /// <summary>Parses a JSON object or raises a 502 <see cref="TranslationException"/> naming <paramref name="what"/>.</summary>
    /// <summary>A client's request body as a JSON object; anything else is the client's error (400).</summary>
    public static JsonObject ParseRequest(ReadOnlySpan<byte> body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw new TranslationException("The request body must be a JSON object");
        }
        catch (JsonException ex)
        {
            throw new TranslationException("Invalid request body: " + ex.Message);
        }
    }

    public static JsonObject ParseObject(ReadOnlySpan<byte> body, string what)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw new TranslationException($"The upstream {what} is not a JSON object", 502);
        }
        catch (JsonException ex)
        {
            throw new TranslationException($"The upstream {what} is not valid JSON: {ex.Message}", 502);
        }
    }

    /// <summary>An error from a non-JSON body: its first line of text, or the status.</summary>
    public static ProviderError TextError(int status, ReadOnlySpan<byte> body)
    {
        var text = Encoding.UTF8.GetString(body.Length > 500 ? body[..500] : body).Trim();
        return new ProviderError(text.Length > 0 ? text : $"HTTP {status} with an empty body");
    }

    public static byte[] Serialize(JsonNode node) => JsonSerializer.SerializeToUtf8Bytes(node, JsonNodeContext.Default.JsonNode);

    public static string? String(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static long Long(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var l) ? l
        : node is JsonValue d && d.TryGetValue<double>(out var x) ? (long)x : 0;
}

[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonNode))]
internal sealed partial class JsonNodeContext : JsonSerializerContext;
