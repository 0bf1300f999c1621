using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Switchyard.Core.Caching.Semantic;

/// <summary>A request split for semantic matching: the last user message's text, and everything else as canonical JSON that must match exactly.</summary>
/// <remarks>
/// Only the wording of the final question may differ between a request and the one whose answer it reuses; the system
/// prompt, earlier turns, tools, model and every other parameter are kept in <see cref="ContextJson"/> (object keys
/// sorted at every level, no whitespace), where the text is replaced by <see cref="Placeholder"/>. A string content and
/// the same text as an array of text parts give the same context. Requests with image, audio or file parts are not
/// eligible: their meaning is not in the text. The caller adds provider and tenant to the bucket key.
/// </remarks>
public sealed class SemanticQuery
{
    /// <summary>Stands in for the last user message's text inside <see cref="ContextJson"/>.</summary>
    public const string Placeholder = "{{semantic-cache:last-user-message}}";

    private string? _contextHash;

    private SemanticQuery(string contextJson, string text)
    {
        ContextJson = contextJson;
        Text = text;
    }

    /// <summary>The request without the last user message's text, canonicalised.</summary>
    public string ContextJson { get; }

    /// <summary>The last user message's text (text parts joined by a line break).</summary>
    public string Text { get; }

    /// <summary>Lower-case hex SHA-256 of <see cref="ContextJson"/>, a compact bucket key.</summary>
    public string ContextHash => _contextHash ??= Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ContextJson)));

    /// <summary>The split of a chat-completions body (last message from the user, text only) or a completions body (one
    /// <c>prompt</c> string); null when the request is not eligible for semantic matching.</summary>
    public static SemanticQuery? TryCreate(JsonObject chatBody)
    {
        ArgumentNullException.ThrowIfNull(chatBody);
        if (chatBody.TryGetPropertyValue("messages", out var messagesNode))
        {
            return FromChat(chatBody, messagesNode);
        }

        if (chatBody.TryGetPropertyValue("prompt", out var promptNode))
        {
            return FromCompletion(chatBody, promptNode);
        }

        return null;
    }

    private static SemanticQuery? FromChat(JsonObject body, JsonNode? messagesNode)
    {
        if (messagesNode is not JsonArray { Count: > 0 } messages || messages[^1] is not JsonObject last)
        {
            return null;
        }

        if (!last.TryGetPropertyValue("role", out var role) || role is not JsonValue roleValue
            || !roleValue.TryGetValue<string>(out var roleText) || roleText != "user")
        {
            return null;
        }

        if (!last.TryGetPropertyValue("content", out var content) || TextOf(content) is not { } text)
        {
            return null;
        }

        return new SemanticQuery(Canonical(body, messages.Count - 1, "messages"), text);
    }

    private static SemanticQuery? FromCompletion(JsonObject body, JsonNode? prompt)
    {
        var text = prompt switch
        {
            JsonValue value when value.TryGetValue<string>(out var s) => s,
            JsonArray { Count: 1 } array when array[0] is JsonValue only && only.TryGetValue<string>(out var s) => s,
            _ => null,
        };
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return new SemanticQuery(Canonical(body, -1, "prompt"), text);
    }

    /// <summary>The text of a message content: a string, or an array made only of text parts.</summary>
    private static string? TextOf(JsonNode? content)
    {
        if (content is JsonValue value)
        {
            return value.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s) ? s : null;
        }

        if (content is not JsonArray { Count: > 0 } parts)
        {
            return null;
        }

        var builder = new StringBuilder();
        foreach (var part in parts)
        {
            if (part is not JsonObject partObject
                || !partObject.TryGetPropertyValue("type", out var type) || type is not JsonValue typeValue
                || !typeValue.TryGetValue<string>(out var typeText) || typeText != "text"
                || !partObject.TryGetPropertyValue("text", out var partText) || partText is not JsonValue textValue
                || !textValue.TryGetValue<string>(out var s))
            {
                return null; // an image, audio or file part, or a malformed one
            }

            if (builder.Length > 0)
            {
                builder.Append('\n');
            }

            builder.Append(s);
        }

        var text = builder.ToString();
        return string.IsNullOrWhiteSpace(text) ? null : text;
    }

    /// <summary>The body in canonical form (<see cref="CanonicalJson"/>) with the text at <c>messages[lastIndex].content</c> or at <c>prompt</c> replaced by <see cref="Placeholder"/>.</summary>
    private static string Canonical(JsonObject body, int lastIndex, string textProperty)
    {
        var context = (JsonObject)body.DeepClone();
        if (lastIndex < 0)
        {
            context[textProperty] = Placeholder;
        }
        else
        {
            context[textProperty]![lastIndex]!["content"] = Placeholder;
        }
        return CanonicalJson.ToText(context);
    }
}
