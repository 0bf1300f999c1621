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

    /// <summary>
    /// The 502 for a successful upstream answer that is not the provider's answer shape, in Portkey's words
    /// (<c>Invalid response received from &lt;provider&gt;: …</c>) with what was wrong and the start of the body.
    /// </summary>
    public static TranslationException InvalidAnswer(string provider, string problem, ReadOnlySpan<byte> body)
    {
        const int Shown = 300;
        var text = Encoding.UTF8.GetString(body.Length > Shown ? body[..Shown] : body).Trim();
        var excerpt = text.Length == 0 ? "an empty body" : body.Length > Shown ? text + "…" : text;
        return new TranslationException($"Invalid response received from {provider}: {problem} ({excerpt})", 502);
    }

    /// <summary>A successful upstream answer as a JSON object, or <see cref="InvalidAnswer(string, string, ReadOnlySpan{byte})"/>.</summary>
    /// <param name="what">What <paramref name="body"/> is, for the message: <c>body</c>, <c>stream event</c> ….</param>
    public static JsonObject ParseAnswer(ReadOnlySpan<byte> body, string provider, string what = "body")
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw InvalidAnswer(provider, $"the {what} is not a JSON object", body);
        }
        catch (JsonException)
        {
            throw InvalidAnswer(provider, $"the {what} is not valid JSON", body);
        }
    }

    /// <summary>The first bytes of an upstream stream, kept so a stream that turns out not to be the provider's can be quoted in the error.</summary>
    public sealed class StreamHead
    {
        private const int Kept = 301; // one more than InvalidAnswer quotes, so a longer stream is shown as cut
        private readonly byte[] _bytes = new byte[Kept];
        private int _count;

        public void Feed(ReadOnlySpan<byte> data)
        {
            if (_count < Kept)
            {
                var n = Math.Min(data.Length, Kept - _count);
                data[..n].CopyTo(_bytes.AsSpan(_count));
                _count += n;
            }
        }

        /// <summary><see cref="InvalidAnswer(string, string, ReadOnlySpan{byte})"/> quoting the start of the stream.</summary>
        public TranslationException Invalid(string provider, string problem) => InvalidAnswer(provider, problem, _bytes.AsSpan(0, _count));
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
