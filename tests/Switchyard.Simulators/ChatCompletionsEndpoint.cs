using System.Text.Json;

namespace Switchyard.Simulators;

/// <summary><c>POST …/chat/completions</c>: echoes the last user message, as JSON or as a chunk stream.</summary>
internal static class ChatCompletionsEndpoint
{
    private const string Fingerprint = "fp_sim";

    public static SimReply Handle(SimRequest request)
    {
        if (RequestFields.ParseWithModel(request, out var root, out var model) is { } rejected)
        {
            return rejected;
        }

        if (ValidateMessages(root) is { } badMessages)
        {
            return badMessages;
        }

        var stream = RequestFields.IsTrue(root, "stream");
        if (!stream && RequestFields.IsPresent(root, "stream_options"))
        {
            return OpenAiErrors.InvalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
        }

        if (ToolCallPlan.Decide(root, out var toolCall) is { } badTools)
        {
            return badTools;
        }

        var messages = root.GetProperty("messages");
        var content = "echo: " + LastUserText(messages);
        var completion = new Completion(
            ResponseIds.New("chatcmpl-"),
            ResponseIds.UnixNow(),
            model,
            content,
            toolCall,
            PromptTokens(messages),
            toolCall is null ? TextPieces.CountWords(content) : Math.Max(1, toolCall.Arguments.Length / 4));

        if (!stream)
        {
            return SimReply.Json(BuildResponse(completion));
        }

        var includeUsage = root.TryGetProperty("stream_options", out var options)
            && options.ValueKind == JsonValueKind.Object
            && RequestFields.IsTrue(options, "include_usage");
        return SimReply.Stream(BuildChunks(completion, includeUsage, Math.Max(1, request.Options.StreamChunkWords)));
    }

    private static SimReply? ValidateMessages(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind == JsonValueKind.Null)
        {
            return OpenAiErrors.MissingParameter("messages");
        }

        if (messages.ValueKind != JsonValueKind.Array)
        {
            return OpenAiErrors.InvalidType("messages", "an array", messages);
        }

        if (messages.GetArrayLength() == 0)
        {
            return OpenAiErrors.InvalidRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages", "empty_array");
        }

        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                return OpenAiErrors.InvalidType($"messages[{index}]", "an object", message);
            }

            if (RequestFields.OptionalString(message, "role") is null)
            {
                return OpenAiErrors.MissingParameter($"messages[{index}].role");
            }

            index++;
        }

        return null;
    }

    private static string LastUserText(JsonElement messages)
    {
        for (var i = messages.GetArrayLength() - 1; i >= 0; i--)
        {
            var message = messages[i];
            if (RequestFields.OptionalString(message, "role") == "user")
            {
                return message.TryGetProperty("content", out var content) ? RequestFields.ContentText(content) : "";
            }
        }

        return "";
    }

    private static int PromptTokens(JsonElement messages)
    {
        var words = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.TryGetProperty("content", out var content))
            {
                words += TextPieces.CountWords(RequestFields.ContentText(content));
            }
        }

        return Math.Max(1, words);
    }

    private static byte[] BuildResponse(Completion c) => JsonOut.Build(w =>
    {
        w.WriteStartObject();
        WriteHeaderFields(w, c, "chat.completion");
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        if (c.ToolCall is { } call)
        {
            w.WriteNull("content");
            w.WriteStartArray("tool_calls");
            w.WriteStartObject();
            w.WriteString("id", call.Id);
            w.WriteString("type", "function");
            w.WriteStartObject("function");
            w.WriteString("name", call.Name);
            w.WriteString("arguments", call.Arguments);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
        }
        else
        {
            w.WriteString("content", c.Content);
        }

        w.WriteNull("refusal");
        w.WriteEndObject();
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", c.FinishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        JsonOut.WriteUsage(w, c.PromptTokens, c.CompletionTokens);
        w.WriteEndObject();
    });

    private static List<byte[]> BuildChunks(Completion c, bool includeUsage, int wordsPerChunk)
    {
        var events = new List<byte[]>();
        if (c.ToolCall is { } call)
        {
            events.Add(Chunk(c, includeUsage, w =>
            {
                w.WriteString("role", "assistant");
                w.WriteNull("content");
                w.WriteStartArray("tool_calls");
                w.WriteStartObject();
                w.WriteNumber("index", 0);
                w.WriteString("id", call.Id);
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", call.Name);
                w.WriteString("arguments", "");
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteNull("refusal");
            }));

            // Small slices so clients must reassemble arguments from several deltas, as with the real API.
            foreach (var piece in TextPieces.SplitByChars(call.Arguments, 5))
            {
                events.Add(Chunk(c, includeUsage, w =>
                {
                    w.WriteStartArray("tool_calls");
                    w.WriteStartObject();
                    w.WriteNumber("index", 0);
                    w.WriteStartObject("function");
                    w.WriteString("arguments", piece);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndArray();
                }));
            }
        }
        else
        {
            events.Add(Chunk(c, includeUsage, w =>
            {
                w.WriteString("role", "assistant");
                w.WriteString("content", "");
                w.WriteNull("refusal");
            }));
            foreach (var piece in TextPieces.SplitByWords(c.Content, wordsPerChunk))
            {
                events.Add(Chunk(c, includeUsage, w => w.WriteString("content", piece)));
            }
        }

        events.Add(Chunk(c, includeUsage, static _ => { }, c.FinishReason));
        if (includeUsage)
        {
            events.Add(JsonOut.SseEvent(w =>
            {
                w.WriteStartObject();
                WriteHeaderFields(w, c, "chat.completion.chunk");
                w.WriteStartArray("choices");
                w.WriteEndArray();
                JsonOut.WriteUsage(w, c.PromptTokens, c.CompletionTokens);
                w.WriteEndObject();
            }));
        }

        events.Add(JsonOut.SseDone);
        return events;
    }

    private static byte[] Chunk(Completion c, bool includeUsage, Action<Utf8JsonWriter> writeDelta, string? finishReason = null) =>
        JsonOut.SseEvent(w =>
        {
            w.WriteStartObject();
            WriteHeaderFields(w, c, "chat.completion.chunk");
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("delta");
            writeDelta(w);
            w.WriteEndObject();
            w.WriteNull("logprobs");
            if (finishReason is null)
            {
                w.WriteNull("finish_reason");
            }
            else
            {
                w.WriteString("finish_reason", finishReason);
            }

            w.WriteEndObject();
            w.WriteEndArray();
            if (includeUsage)
            {
                // With include_usage the real API sends "usage": null on every chunk but the last.
                w.WriteNull("usage");
            }

            w.WriteEndObject();
        });

    private static void WriteHeaderFields(Utf8JsonWriter w, Completion c, string objectType)
    {
        w.WriteString("id", c.Id);
        w.WriteString("object", objectType);
        w.WriteNumber("created", c.Created);
        w.WriteString("model", c.Model);
        w.WriteString("system_fingerprint", Fingerprint);
    }

    private sealed record Completion(string Id, long Created, string Model, string Content, ToolCallPlan? ToolCall, int PromptTokens, int CompletionTokens)
    {
        public string FinishReason => ToolCall is null ? "stop" : "tool_calls";
    }
}
