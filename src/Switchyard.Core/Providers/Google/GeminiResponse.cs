using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Google;

/// <summary>Gemini <c>GenerateContentResponse</c> → canonical <c>chat.completion</c>, usage and errors (AI Studio and Vertex AI).</summary>
public static class GeminiResponse
{
    public static JsonObject ToChatCompletion(ReadOnlySpan<byte> body, ChatCall call)
    {
        var response = ChatJson.ParseAnswer(body, call.Provider);
        var strict = call.StrictOpenAiCompliance;
        var choices = new JsonArray();
        if (response["candidates"] is JsonArray { Count: > 0 } candidates)
        {
            foreach (var node in candidates)
            {
                if (node is not JsonObject candidate)
                {
                    throw ChatJson.InvalidAnswer(call.Provider, "a candidate is not an object", body);
                }
                var message = new JsonObject { ["role"] = "assistant" };
                var (text, thoughts, toolCalls) = Parts(candidate, null, strict);
                message["content"] = text.Length > 0 || toolCalls.Count == 0 ? text.ToString() : null;
                if (thoughts.Length > 0)
                {
                    message["reasoning_content"] = thoughts.ToString();
                }
                if (toolCalls.Count > 0)
                {
                    message["tool_calls"] = toolCalls;
                }
                if (!strict && ContentBlocks(candidate) is { Count: > 0 } blocks)
                {
                    message["content_blocks"] = blocks;
                }
                var native = ChatJson.String(candidate["finishReason"]);
                var choice = new JsonObject
                {
                    ["index"] = candidate["index"] is JsonValue i && i.TryGetValue<int>(out var index) ? index : choices.Count,
                    ["message"] = message,
                    ["logprobs"] = null,
                    ["finish_reason"] = FinishReason(native, toolCalls.Count > 0),
                    ["native_finish_reason"] = native,
                };
                if (!strict && candidate["groundingMetadata"] is JsonObject grounding)
                {
                    choice["groundingMetadata"] = grounding.DeepClone();
                }
                choices.Add((JsonNode)choice);
            }
        }
        else if (response["promptFeedback"] is not JsonObject)
        {
            throw ChatJson.InvalidAnswer(call.Provider, "the answer has neither candidates nor promptFeedback", body);
        }
        else
        {
            // The prompt itself was blocked: no candidates, only promptFeedback.blockReason.
            var block = ChatJson.String(response["promptFeedback"]?["blockReason"]);
            choices.Add((JsonNode)new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = "" },
                ["logprobs"] = null,
                ["finish_reason"] = block is null ? "stop" : "content_filter",
                ["native_finish_reason"] = block,
            });
        }
        var completion = new JsonObject
        {
            ["id"] = CompletionId(response),
            ["object"] = "chat.completion",
            ["created"] = call.Created,
            ["model"] = ChatJson.String(response["modelVersion"]) ?? call.Model,
            ["choices"] = choices,
        };
        if (response["usageMetadata"] is JsonObject usage)
        {
            completion["usage"] = Usage(usage);
        }
        return completion;
    }

    internal static string CompletionId(JsonObject response) =>
        ChatJson.String(response["responseId"]) is { Length: > 0 } id ? "chatcmpl-" + id : "chatcmpl-" + Guid.NewGuid().ToString("N");

    /// <summary>
    /// Strict compliance off: the candidate's parts as Portkey's <c>content_blocks</c>, thoughts as <c>thinking</c> blocks,
    /// text as <c>text</c> blocks and inline data as <c>image_url</c> blocks.
    /// </summary>
    internal static JsonArray ContentBlocks(JsonObject candidate)
    {
        var blocks = new JsonArray();
        foreach (var part in (candidate["content"]?["parts"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (part["functionCall"] is JsonObject)
            {
                continue;
            }
            if (ChatJson.String(part["text"]) is { Length: > 0 } text)
            {
                blocks.Add((JsonNode)(IsThought(part)
                    ? new JsonObject { ["type"] = "thinking", ["thinking"] = text }
                    : new JsonObject { ["type"] = "text", ["text"] = text }));
            }
            else if (part["inlineData"] is JsonObject data)
            {
                blocks.Add((JsonNode)new JsonObject
                {
                    ["type"] = "image_url",
                    ["image_url"] = new JsonObject { ["url"] = $"data:{ChatJson.String(data["mimeType"])};base64,{ChatJson.String(data["data"])}" },
                });
            }
        }
        return blocks;
    }

    /// <summary>A candidate's parts split into answer text, thought text and tool calls (numbered from <paramref name="firstToolIndex"/> when streaming).</summary>
    /// <param name="strict">Strict compliance off also puts each call's thought signature at <c>function.thought_signature</c>, where Portkey has it.</param>
    internal static (StringBuilder Text, StringBuilder Thoughts, JsonArray ToolCalls) Parts(JsonObject candidate, int? firstToolIndex, bool strict = true)
    {
        var text = new StringBuilder();
        var thoughts = new StringBuilder();
        var toolCalls = new JsonArray();
        foreach (var part in candidate["content"]?["parts"] as JsonArray ?? [])
        {
            if (part is not JsonObject p)
            {
                continue;
            }
            if (p["functionCall"] is JsonObject fc)
            {
                toolCalls.Add((JsonNode)ToolCall(p, fc, firstToolIndex + toolCalls.Count, strict));
            }
            else if (ChatJson.String(p["text"]) is { } t)
            {
                (IsThought(p) ? thoughts : text).Append(t);
            }
        }
        return (text, thoughts, toolCalls);
    }

    internal static bool IsThought(JsonObject part) => part["thought"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    /// <summary>An OpenAI tool call from a <c>functionCall</c> part; Gemini has no call ids, so one is made. The part's thought signature is kept.</summary>
    internal static JsonObject ToolCall(JsonObject part, JsonObject functionCall, int? index, bool strict = true)
    {
        var call = new JsonObject();
        if (index is { } i)
        {
            call["index"] = i;
        }
        call["id"] = ChatJson.String(functionCall["id"]) is { Length: > 0 } id ? id : "call_" + Guid.NewGuid().ToString("N")[..24];
        call["type"] = "function";
        call["function"] = new JsonObject
        {
            ["name"] = ChatJson.String(functionCall["name"]) ?? "",
            ["arguments"] = (functionCall["args"] ?? new JsonObject()).ToJsonString(),
        };
        if (ChatJson.String(part["thoughtSignature"]) is { Length: > 0 } signature)
        {
            call["thought_signature"] = signature;
            if (!strict)
            {
                ((JsonObject)call["function"]!)["thought_signature"] = signature;
            }
        }
        return call;
    }

    /// <summary>SEAM.md: a function call makes <c>tool_calls</c>; safety-like reasons make <c>content_filter</c>.</summary>
    public static string? FinishReason(string? native, bool hasToolCalls)
    {
        if (native is null)
        {
            return hasToolCalls ? "tool_calls" : null;
        }
        return native switch
        {
            "MAX_TOKENS" => "length",
            "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" or "LANGUAGE" => "content_filter",
            _ when hasToolCalls => "tool_calls",
            _ => "stop",
        };
    }

    /// <summary>SEAM.md usage: prompt = promptTokenCount (+ tool-use prompt), completion = candidates + thoughts, cached = cachedContentTokenCount.</summary>
    public static JsonObject Usage(JsonObject usage)
    {
        var prompt = ChatJson.Long(usage["promptTokenCount"]) + ChatJson.Long(usage["toolUsePromptTokenCount"]);
        var thoughts = ChatJson.Long(usage["thoughtsTokenCount"]);
        var completion = ChatJson.Long(usage["candidatesTokenCount"]) + thoughts;
        var result = new JsonObject
        {
            ["prompt_tokens"] = prompt,
            ["completion_tokens"] = completion,
            ["total_tokens"] = prompt + completion,
            ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = ChatJson.Long(usage["cachedContentTokenCount"]) },
            ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = thoughts },
        };
        if (usage.ContainsKey("cachedContentTokenCount"))
        {
            result["cache_read_input_tokens"] = ChatJson.Long(usage["cachedContentTokenCount"]);
            result["cache_creation_input_tokens"] = 0;
        }
        return result;
    }

    /// <summary>Google's error body <c>{"error": {code, message, status}}</c> (also inside a JSON array, as streamed endpoints send it).</summary>
    public static ProviderError ReadError(int status, ReadOnlySpan<byte> body)
    {
        try
        {
            var root = JsonNode.Parse(body);
            if (root is JsonArray { Count: > 0 } array)
            {
                root = array[0];
            }
            if (root?["error"] is JsonObject error)
            {
                var code = ChatJson.String(error["status"]);
                return new ProviderError(ChatJson.String(error["message"]) ?? $"HTTP {status}", code, code);
            }
        }
        catch (JsonException)
        {
        }
        return ChatJson.TextError(status, body);
    }
}
