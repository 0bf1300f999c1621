using System.Text.Json;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Usage.Tokens;

/// <summary>Counts the prompt tokens of a parsed request body in each format the gateway accepts.</summary>
/// <remarks>
/// Chat-shaped prompts use the formula of OpenAI's cookbook ("How to count tokens with tiktoken"): every message costs 3 tokens
/// plus the tokens of each of its string values (role, content, name, tool_call_id, …), a name costs 1 more, and the reply is
/// primed with 3. Anthropic Messages and Responses bodies are counted as the chat messages they translate to (their system prompt
/// or instructions as a system message), so one conversation has one estimate whatever format it arrived in. What the counter
/// cannot see counts nothing: images, audio, files and documents (providers price them by size or duration, not by their text),
/// encrypted reasoning items, and tool definitions (their rendering into the prompt is undocumented and differs per provider).
/// </remarks>
internal static class PromptTokens
{
    private const int TokensPerMessage = 3;
    private const int TokensPerName = 1;
    private const int ReplyPriming = 3;

    public static long Count(JsonElement body, EndpointKind? endpoint, string? model, Func<string, long> count)
    {
        if (body.ValueKind != JsonValueKind.Object) return 0;
        return (endpoint ?? Infer(body, model)) switch
        {
            EndpointKind.ChatComplete or EndpointKind.Messages => Chat(body, count),
            EndpointKind.Complete => Plain(body, "prompt", count) + Plain(body, "suffix", count),
            EndpointKind.Embed or EndpointKind.Moderate => Plain(body, "input", count),
            EndpointKind.CreateModelResponse => Responses(body, count),
            EndpointKind.Rerank => Plain(body, "query", count) + Documents(body, count),
            _ => 0,
        };
    }

    // Without the endpoint the body's shape decides. "input" is ambiguous: embeddings and moderations take plain strings or token
    // arrays, Responses takes a string or a list of items (objects); a string with no instructions goes by the model's name.
    private static EndpointKind? Infer(JsonElement body, string? model)
    {
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array) return EndpointKind.ChatComplete;
        if (body.TryGetProperty("prompt", out _)) return EndpointKind.Complete;
        if (!body.TryGetProperty("input", out var input)) return null;
        if (body.TryGetProperty("instructions", out _)) return EndpointKind.CreateModelResponse;
        if (input.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in input.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object) return EndpointKind.CreateModelResponse;
            }
            return EndpointKind.Embed;
        }
        var name = model ?? "";
        return name.Contains("embed", StringComparison.OrdinalIgnoreCase) || name.Contains("moderation", StringComparison.OrdinalIgnoreCase)
            ? EndpointKind.Embed
            : EndpointKind.CreateModelResponse;
    }

    private static long Chat(JsonElement body, Func<string, long> count)
    {
        long total = ReplyPriming;
        // Anthropic keeps the system prompt beside the messages, as a string or a list of text blocks.
        if (body.TryGetProperty("system", out var system) && system.ValueKind is JsonValueKind.String or JsonValueKind.Array)
        {
            total += TokensPerMessage + count("system") + Content(system, count);
        }
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind == JsonValueKind.Object) total += Message(message, count);
            }
        }
        return total;
    }

    private static long Message(JsonElement message, Func<string, long> count)
    {
        long total = TokensPerMessage;
        foreach (var property in message.EnumerateObject())
        {
            var value = property.Value;
            if (property.NameEquals("content"))
            {
                total += Content(value, count);
            }
            else if (property.NameEquals("tool_calls") && value.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in value.EnumerateArray())
                {
                    if (call.ValueKind == JsonValueKind.Object && call.TryGetProperty("function", out var function)) total += Call(function, count);
                }
            }
            else if (property.NameEquals("function_call"))
            {
                total += Call(value, count);
            }
            else if (value.ValueKind == JsonValueKind.String)
            {
                total += count(value.GetString()!);
                if (property.NameEquals("name")) total += TokensPerName;
            }
        }
        return total;
    }

    /// <summary>A content value: a string, or a list of OpenAI content parts or Anthropic content blocks.</summary>
    private static long Content(JsonElement content, Func<string, long> count)
    {
        if (content.ValueKind == JsonValueKind.String) return count(content.GetString()!);
        if (content.ValueKind != JsonValueKind.Array) return 0;
        long total = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.String)
            {
                total += count(part.GetString()!);
                continue;
            }
            if (part.ValueKind != JsonValueKind.Object) continue;
            var type = part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                // OpenAI chat "text", Responses "input_text"/"output_text", Anthropic "text".
                case "text" or "input_text" or "output_text":
                    total += Text(part, "text", count);
                    break;
                case "refusal":
                    total += Text(part, "refusal", count);
                    break;
                // Anthropic: a tool call the assistant made (its arguments as compact JSON) and the result sent back.
                case "tool_use":
                    total += Text(part, "name", count);
                    if (part.TryGetProperty("input", out var input)) total += count(input.GetRawText());
                    break;
                case "tool_result":
                    if (part.TryGetProperty("content", out var result)) total += Content(result, count);
                    break;
                // image_url, input_audio, file, image, document, thinking, redacted_thinking, …: see the remarks.
            }
        }
        return total;
    }

    private static long Call(JsonElement function, Func<string, long> count) =>
        function.ValueKind != JsonValueKind.Object ? 0 : Text(function, "name", count) + Text(function, "arguments", count);

    private static long Responses(JsonElement body, Func<string, long> count)
    {
        long total = ReplyPriming;
        if (body.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String)
        {
            total += TokensPerMessage + count("system") + count(instructions.GetString()!);
        }
        if (!body.TryGetProperty("input", out var input)) return total;
        if (input.ValueKind == JsonValueKind.String)
        {
            return total + TokensPerMessage + count("user") + count(input.GetString()!);
        }
        if (input.ValueKind != JsonValueKind.Array) return total;
        foreach (var item in input.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object) continue;
            var type = item.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case null or "message":
                    total += TokensPerMessage + Text(item, "role", count) + (item.TryGetProperty("content", out var content) ? Content(content, count) : 0);
                    break;
                case "function_call" or "custom_tool_call":
                    total += TokensPerMessage + Text(item, "name", count) + Text(item, "arguments", count) + Text(item, "input", count);
                    break;
                case "function_call_output" or "custom_tool_call_output":
                    total += TokensPerMessage + (item.TryGetProperty("output", out var output) ? Content(output, count) : 0);
                    break;
                // reasoning (encrypted), item_reference, built-in tool calls: nothing the counter can read.
            }
        }
        return total;
    }

    /// <summary>Legacy completions' prompt and embeddings' input: a string, a token array, or a list of either.</summary>
    private static long Plain(JsonElement body, string property, Func<string, long> count)
    {
        if (!body.TryGetProperty(property, out var value)) return 0;
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return count(value.GetString()!);
            case JsonValueKind.Array:
                long total = 0;
                foreach (var item in value.EnumerateArray())
                {
                    total += item.ValueKind switch
                    {
                        JsonValueKind.String => count(item.GetString()!),
                        // Already tokenized: one number is one token.
                        JsonValueKind.Number => 1,
                        JsonValueKind.Array => item.GetArrayLength(),
                        _ => 0,
                    };
                }
                return total;
            default:
                return 0;
        }
    }

    private static long Documents(JsonElement body, Func<string, long> count)
    {
        if (!body.TryGetProperty("documents", out var documents) || documents.ValueKind != JsonValueKind.Array) return 0;
        long total = 0;
        foreach (var document in documents.EnumerateArray())
        {
            total += document.ValueKind == JsonValueKind.String ? count(document.GetString()!) : Text(document, "text", count);
        }
        return total;
    }

    private static long Text(JsonElement obj, string property, Func<string, long> count) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? count(value.GetString()!)
            : 0;
}
