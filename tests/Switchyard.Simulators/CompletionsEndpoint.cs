using System.Text.Json;

namespace Switchyard.Simulators;

/// <summary><c>POST …/completions</c> (legacy text completions): one echoed choice per prompt.</summary>
internal static class CompletionsEndpoint
{
    public static SimReply Handle(SimRequest request)
    {
        if (RequestFields.ParseWithModel(request, out var root, out var model) is { } rejected)
        {
            return rejected;
        }

        if (ReadPrompts(root, out var prompts) is { } badPrompt)
        {
            return badPrompt;
        }

        var stream = RequestFields.IsTrue(root, "stream");
        if (!stream && RequestFields.IsPresent(root, "stream_options"))
        {
            return OpenAiErrors.InvalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
        }

        var texts = prompts.Select(p => "echo: " + p).ToList();
        var id = ResponseIds.New("cmpl-");
        var created = ResponseIds.UnixNow();
        var promptTokens = Math.Max(1, prompts.Sum(TextPieces.CountWords));
        var completionTokens = texts.Sum(TextPieces.CountWords);

        void WriteHead(Utf8JsonWriter w)
        {
            w.WriteString("id", id);
            w.WriteString("object", "text_completion");
            w.WriteNumber("created", created);
            w.WriteString("model", model);
            w.WriteString("system_fingerprint", "fp_sim");
        }

        if (!stream)
        {
            return SimReply.Json(JsonOut.Build(w =>
            {
                w.WriteStartObject();
                WriteHead(w);
                w.WriteStartArray("choices");
                for (var i = 0; i < texts.Count; i++)
                {
                    WriteChoice(w, i, texts[i], "stop");
                }

                w.WriteEndArray();
                JsonOut.WriteUsage(w, promptTokens, completionTokens);
                w.WriteEndObject();
            }));
        }

        var includeUsage = root.TryGetProperty("stream_options", out var options)
            && options.ValueKind == JsonValueKind.Object
            && RequestFields.IsTrue(options, "include_usage");
        var events = new List<byte[]>();
        for (var i = 0; i < texts.Count; i++)
        {
            var index = i;
            foreach (var piece in TextPieces.SplitByWords(texts[i], Math.Max(1, request.Options.StreamChunkWords)))
            {
                events.Add(Event(w => WriteChoice(w, index, piece, null)));
            }

            events.Add(Event(w => WriteChoice(w, index, "", "stop")));
        }

        if (includeUsage)
        {
            events.Add(JsonOut.SseEvent(w =>
            {
                w.WriteStartObject();
                WriteHead(w);
                w.WriteStartArray("choices");
                w.WriteEndArray();
                JsonOut.WriteUsage(w, promptTokens, completionTokens);
                w.WriteEndObject();
            }));
        }

        events.Add(JsonOut.SseDone);
        return SimReply.Stream(events);

        byte[] Event(Action<Utf8JsonWriter> writeChoice) => JsonOut.SseEvent(w =>
        {
            w.WriteStartObject();
            WriteHead(w);
            w.WriteStartArray("choices");
            writeChoice(w);
            w.WriteEndArray();
            if (includeUsage)
            {
                w.WriteNull("usage");
            }

            w.WriteEndObject();
        });
    }

    /// <summary>
    /// Accepts every prompt form the API does: a string, strings, one token array, or token arrays
    /// (token arrays are echoed as their numbers separated by spaces). A missing prompt is empty.
    /// </summary>
    private static SimReply? ReadPrompts(JsonElement root, out List<string> prompts)
    {
        prompts = [];
        if (!root.TryGetProperty("prompt", out var prompt) || prompt.ValueKind == JsonValueKind.Null)
        {
            prompts.Add("");
            return null;
        }

        if (prompt.ValueKind == JsonValueKind.String)
        {
            prompts.Add(prompt.GetString() ?? "");
            return null;
        }

        if (prompt.ValueKind != JsonValueKind.Array || prompt.GetArrayLength() == 0)
        {
            return OpenAiErrors.InvalidRequest("Invalid 'prompt': expected a string, an array of strings, or an array of token arrays.", "prompt");
        }

        if (prompt[0].ValueKind == JsonValueKind.Number)
        {
            prompts.Add(TokenText(prompt));
            return null;
        }

        foreach (var item in prompt.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                prompts.Add(item.GetString() ?? "");
            }
            else if (item.ValueKind == JsonValueKind.Array)
            {
                prompts.Add(TokenText(item));
            }
            else
            {
                return OpenAiErrors.InvalidRequest("Invalid 'prompt': expected a string, an array of strings, or an array of token arrays.", "prompt");
            }
        }

        return null;
    }

    private static string TokenText(JsonElement tokens) =>
        string.Join(' ', tokens.EnumerateArray().Select(t => t.GetRawText()));

    private static void WriteChoice(Utf8JsonWriter w, int index, string text, string? finishReason)
    {
        w.WriteStartObject();
        w.WriteString("text", text);
        w.WriteNumber("index", index);
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
    }
}
