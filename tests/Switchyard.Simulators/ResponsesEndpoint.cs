using System.Text;
using System.Text.Json;

namespace Switchyard.Simulators;

/// <summary>
/// <c>POST …/responses</c>: echoes the last user input as an OpenAI Responses API object, or as its event stream
/// (created, in_progress, output_item.added, content_part.added, one output_text.delta per piece, the done events, completed).
/// </summary>
internal static class ResponsesEndpoint
{
    public static SimReply Handle(SimRequest request)
    {
        if (RequestFields.ParseWithModel(request, out var root, out var model) is { } rejected)
        {
            return rejected;
        }

        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
        {
            return OpenAiErrors.MissingParameter("input");
        }

        if (input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            return OpenAiErrors.InvalidType("input", "a string or an array", input);
        }

        var (lastUser, inputWords) = ReadInput(input);
        var text = "echo: " + lastUser;
        var answer = new Answer(ResponseIds.New("resp_"), ResponseIds.New("msg_"), ResponseIds.UnixNow(), model, text,
            Math.Max(1, inputWords), TextPieces.CountWords(text));
        if (!RequestFields.IsTrue(root, "stream"))
        {
            return SimReply.Json(JsonOut.Build(w => WriteResponse(w, answer, completed: true)));
        }

        var events = new List<byte[]>();
        void Add(string type, Action<Utf8JsonWriter> fields) => events.Add(Event(type, events.Count, fields));

        Add("response.created", w => WriteResponse(w, answer, completed: false, "response"));
        Add("response.in_progress", w => WriteResponse(w, answer, completed: false, "response"));
        Add("response.output_item.added", w =>
        {
            w.WriteNumber("output_index", 0);
            WriteItem(w, answer, completed: false, "item");
        });
        Add("response.content_part.added", w =>
        {
            WritePartFields(w, answer);
            WritePart(w, "", "part");
        });
        foreach (var piece in TextPieces.SplitByWords(text, Math.Max(1, request.Options.StreamChunkWords)))
        {
            Add("response.output_text.delta", w =>
            {
                WritePartFields(w, answer);
                w.WriteString("delta", piece);
            });
        }

        Add("response.output_text.done", w =>
        {
            WritePartFields(w, answer);
            w.WriteString("text", text);
        });
        Add("response.content_part.done", w =>
        {
            WritePartFields(w, answer);
            WritePart(w, text, "part");
        });
        Add("response.output_item.done", w =>
        {
            w.WriteNumber("output_index", 0);
            WriteItem(w, answer, completed: true, "item");
        });
        Add("response.completed", w => WriteResponse(w, answer, completed: true, "response"));
        return SimReply.Stream(events);
    }

    private static (string LastUser, int Words) ReadInput(JsonElement input)
    {
        if (input.ValueKind == JsonValueKind.String)
        {
            var s = input.GetString() ?? "";
            return (s, TextPieces.CountWords(s));
        }

        var last = "";
        var words = 0;
        foreach (var item in input.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("content", out var content))
            {
                continue;
            }

            var text = RequestFields.ContentText(content);
            words += TextPieces.CountWords(text);
            if (RequestFields.OptionalString(item, "role") == "user")
            {
                last = text;
            }
        }

        return (last, words);
    }

    private static byte[] Event(string type, int sequence, Action<Utf8JsonWriter> fields)
    {
        var json = JsonOut.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", type);
            w.WriteNumber("sequence_number", sequence);
            fields(w);
            w.WriteEndObject();
        });
        var head = Encoding.UTF8.GetBytes("event: " + type + "\ndata: ");
        return [.. head, .. json, (byte)'\n', (byte)'\n'];
    }

    private static void WritePartFields(Utf8JsonWriter w, Answer a)
    {
        w.WriteString("item_id", a.ItemId);
        w.WriteNumber("output_index", 0);
        w.WriteNumber("content_index", 0);
    }

    private static void WritePart(Utf8JsonWriter w, string text, string? name = null)
    {
        if (name is null)
        {
            w.WriteStartObject();
        }
        else
        {
            w.WriteStartObject(name);
        }

        w.WriteString("type", "output_text");
        w.WriteString("text", text);
        w.WriteStartArray("annotations");
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteItem(Utf8JsonWriter w, Answer a, bool completed, string? name = null)
    {
        if (name is null)
        {
            w.WriteStartObject();
        }
        else
        {
            w.WriteStartObject(name);
        }

        w.WriteString("id", a.ItemId);
        w.WriteString("type", "message");
        w.WriteString("status", completed ? "completed" : "in_progress");
        w.WriteString("role", "assistant");
        w.WriteStartArray("content");
        if (completed)
        {
            WritePart(w, a.Text);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteResponse(Utf8JsonWriter w, Answer a, bool completed, string? name = null)
    {
        if (name is null)
        {
            w.WriteStartObject();
        }
        else
        {
            w.WriteStartObject(name);
        }

        w.WriteString("id", a.Id);
        w.WriteString("object", "response");
        w.WriteNumber("created_at", a.Created);
        w.WriteString("status", completed ? "completed" : "in_progress");
        w.WriteNull("error");
        w.WriteNull("incomplete_details");
        w.WriteString("model", a.Model);
        w.WriteStartArray("output");
        if (completed)
        {
            WriteItem(w, a, completed: true);
        }

        w.WriteEndArray();
        w.WriteBoolean("parallel_tool_calls", true);
        w.WriteNull("previous_response_id");
        w.WriteBoolean("store", false);
        if (completed)
        {
            w.WriteStartObject("usage");
            w.WriteNumber("input_tokens", a.InputTokens);
            w.WriteStartObject("input_tokens_details");
            w.WriteNumber("cached_tokens", 0);
            w.WriteEndObject();
            w.WriteNumber("output_tokens", a.OutputTokens);
            w.WriteStartObject("output_tokens_details");
            w.WriteNumber("reasoning_tokens", 0);
            w.WriteEndObject();
            w.WriteNumber("total_tokens", a.InputTokens + a.OutputTokens);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("usage");
        }

        w.WriteEndObject();
    }

    private sealed record Answer(string Id, string ItemId, long Created, string Model, string Text, int InputTokens, int OutputTokens);
}
