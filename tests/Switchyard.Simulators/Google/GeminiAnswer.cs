using System.Text.Json.Nodes;

namespace Switchyard.Simulators.Google;

/// <summary>
/// The simulated model's deterministic answer to a validated request, as one <c>GenerateContentResponse</c> or as the
/// events of a stream. Token counts are words: prompt = words of every text part (+ system) + 10 per media part;
/// output = words of the answer; thoughts = words of the thought; a function call counts 1 + its argument count.
/// </summary>
internal sealed class GeminiAnswer
{
    private readonly string _model;
    private readonly string _responseId;
    private string _text = "";
    private string? _thought;
    private bool _includeThoughts;
    private readonly List<(string Name, string Args)> _calls = [];
    private string? _signature;
    private string _finish = "STOP";
    private string? _blocked;
    private int _candidates = 1;
    private long _prompt;
    private long _output;
    private long _thoughts;
    private int _cached;

    private GeminiAnswer(string model, string responseId)
    {
        _model = model;
        _responseId = responseId;
    }

    public static GeminiAnswer Plan(JsonObject body, GeminiReply reply, string model, string responseId)
    {
        var a = new GeminiAnswer(model, responseId);
        var contents = (JsonArray)GeminiValidator.Get(body, "contents")!;
        var media = new List<string>();
        foreach (var content in contents)
        {
            a._prompt += Count((JsonObject)content!, media);
        }
        if (GeminiValidator.Get(body, "systemInstruction") is JsonObject system)
        {
            a._prompt += Count(system, media);
        }
        var config = GeminiValidator.Get(body, "generationConfig") as JsonObject ?? [];
        a._candidates = GeminiValidator.Get(config, "candidateCount") is JsonValue n ? n.GetValue<int>() : 1;
        a._cached = reply.CachedTokens;
        if (reply.PromptBlockReason is { } block)
        {
            a._blocked = block;
            return a;
        }
        var last = (JsonObject)contents[^1]!;
        var lastParts = (JsonArray)GeminiValidator.Get(last, "parts")!;
        var userText = string.Join(" ", lastParts.Select(p => GeminiValidator.Str(GeminiValidator.Get((JsonObject)p!, "text"))).Where(t => t is not null));
        var toolResults = lastParts.Select(p => GeminiValidator.Get((JsonObject)p!, "functionResponse")).OfType<JsonObject>().ToList();

        if (reply.FunctionCalls.Count > 0)
        {
            a._calls.AddRange(reply.FunctionCalls);
            a._signature = reply.ThoughtSignature;
            a._text = reply.Text ?? "";
        }
        else if (reply.Text is { } scripted)
        {
            a._text = scripted;
        }
        else if (toolResults.Count > 0)
        {
            a._text = "tool said: " + string.Join("; ", toolResults.Select(r => GeminiValidator.Str(r["name"]) + "=" + GeminiValidator.Get(r, "response")!.ToJsonString()));
        }
        else if (GeminiValidator.Str(GeminiValidator.Get(config, "responseMimeType")) == "application/json")
        {
            var schema = GeminiValidator.Get(config, "responseSchema") as JsonObject ?? GeminiValidator.Get(config, "responseJsonSchema") as JsonObject;
            a._text = (schema is null ? new JsonObject { ["echo"] = userText } : Sample(schema, 0)).ToJsonString();
        }
        else
        {
            a._text = "echo: " + userText + (media.Count > 0 ? " [media: " + string.Join(", ", media) + "]" : "");
        }

        if (GeminiValidator.Get(config, "thinkingConfig") is JsonObject thinking
            && !(GeminiValidator.Get(thinking, "thinkingBudget") is JsonValue budget && budget.GetValue<long>() == 0))
        {
            a._thought = "Thinking about: " + userText;
            a._includeThoughts = GeminiValidator.Get(thinking, "includeThoughts") is JsonValue inc && inc.GetValue<bool>();
            a._thoughts = Words(a._thought);
        }
        if (GeminiValidator.Get(config, "stopSequences") is JsonArray stops)
        {
            foreach (var stop in stops.Select(s => s!.GetValue<string>()))
            {
                var at = a._text.IndexOf(stop, StringComparison.Ordinal);
                if (at >= 0)
                {
                    a._text = a._text[..at];
                }
            }
        }
        if (GeminiValidator.Get(config, "maxOutputTokens") is JsonValue max)
        {
            var limit = max.GetValue<int>();
            var words = a._text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length > limit)
            {
                a._text = string.Join(' ', words.Take(limit));
                a._finish = "MAX_TOKENS";
            }
        }
        if (reply.FinishReason is { } finish)
        {
            a._finish = finish;
            if (finish is "SAFETY" or "PROHIBITED_CONTENT" or "BLOCKLIST" or "SPII")
            {
                a._text = "";
                a._calls.Clear();
            }
        }
        a._output = Words(a._text) + a._calls.Sum(c => 1 + ((JsonNode.Parse(c.Args) as JsonObject)?.Count ?? 0));
        return a;
    }

    private static long Count(JsonObject content, List<string> media)
    {
        long tokens = 0;
        foreach (var part in (JsonArray)GeminiValidator.Get(content, "parts")!)
        {
            var p = (JsonObject)part!;
            if (GeminiValidator.Str(GeminiValidator.Get(p, "text")) is { } text)
            {
                tokens += Words(text);
            }
            else if ((GeminiValidator.Get(p, "inlineData") ?? GeminiValidator.Get(p, "fileData")) is JsonObject m)
            {
                media.Add(GeminiValidator.Str(GeminiValidator.Get(m, "mimeType")) ?? "?");
                tokens += 10;
            }
            else if (GeminiValidator.Get(p, "functionCall") is JsonObject fc)
            {
                tokens += 1 + ((GeminiValidator.Get(fc, "args") as JsonObject)?.Count ?? 0);
            }
            else if (GeminiValidator.Get(p, "functionResponse") is JsonObject fr)
            {
                tokens += 1 + ((GeminiValidator.Get(fr, "response") as JsonObject)?.Count ?? 0);
            }
        }
        return tokens;
    }

    internal static long Words(string text) => text.Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries).Length;

    private static JsonNode Sample(JsonObject schema, int depth)
    {
        if (GeminiValidator.Get(schema, "enum") is JsonArray { Count: > 0 } values)
        {
            return values[0]!.DeepClone();
        }
        return (GeminiValidator.Str(schema["type"]) ?? "object").ToUpperInvariant() switch
        {
            "STRING" => "sample",
            "INTEGER" => 1,
            "NUMBER" => 1.5,
            "BOOLEAN" => true,
            "ARRAY" when depth < 8 => new JsonArray(schema["items"] is JsonObject items ? Sample(items, depth + 1) : "sample"),
            "OBJECT" when depth < 8 => new JsonObject((schema["properties"] as JsonObject ?? []).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)Sample((JsonObject)p.Value!, depth + 1)))),
            _ => JsonValue.Create((string?)null)!,
        };
    }

    private JsonObject Usage(bool final)
    {
        var usage = new JsonObject { ["promptTokenCount"] = _prompt };
        if (final)
        {
            if (!_blocked.HasValue())
            {
                usage["candidatesTokenCount"] = _output * _candidates;
            }
            usage["totalTokenCount"] = _prompt + (_output + _thoughts) * _candidates;
            if (_thoughts > 0)
            {
                usage["thoughtsTokenCount"] = _thoughts * _candidates;
            }
        }
        else
        {
            usage["totalTokenCount"] = _prompt;
        }
        if (_cached > 0)
        {
            usage["cachedContentTokenCount"] = _cached;
        }
        return usage;
    }

    private JsonObject Response(JsonArray? candidates, bool final)
    {
        var response = new JsonObject();
        if (candidates is not null)
        {
            response["candidates"] = candidates;
        }
        if (_blocked is not null)
        {
            response["promptFeedback"] = new JsonObject
            {
                ["blockReason"] = _blocked,
                ["safetyRatings"] = new JsonArray(new JsonObject { ["category"] = "HARM_CATEGORY_DANGEROUS_CONTENT", ["probability"] = "HIGH", ["blocked"] = true }),
            };
        }
        response["usageMetadata"] = Usage(final);
        response["modelVersion"] = _model;
        response["responseId"] = _responseId;
        return response;
    }

    private JsonObject Candidate(int index, JsonArray parts, string? finish)
    {
        var candidate = new JsonObject { ["content"] = new JsonObject { ["parts"] = parts, ["role"] = "model" } };
        if (finish is not null)
        {
            candidate["finishReason"] = finish;
            candidate["safetyRatings"] = new JsonArray(
                new JsonObject { ["category"] = "HARM_CATEGORY_HARASSMENT", ["probability"] = finish == "SAFETY" ? "HIGH" : "NEGLIGIBLE", ["blocked"] = finish == "SAFETY" },
                new JsonObject { ["category"] = "HARM_CATEGORY_DANGEROUS_CONTENT", ["probability"] = "NEGLIGIBLE" });
        }
        candidate["index"] = index;
        return candidate;
    }

    private JsonArray AllParts()
    {
        var parts = new JsonArray();
        if (_thought is not null && _includeThoughts)
        {
            parts.Add(new JsonObject { ["text"] = _thought, ["thought"] = true });
        }
        if (_text.Length > 0)
        {
            parts.Add(new JsonObject { ["text"] = _text });
        }
        foreach (var call in _calls)
        {
            parts.Add(CallPart(call));
        }
        return parts;
    }

    private JsonObject CallPart((string Name, string Args) call)
    {
        var part = new JsonObject { ["functionCall"] = new JsonObject { ["name"] = call.Name, ["args"] = JsonNode.Parse(call.Args) } };
        if (_signature is not null)
        {
            part["thoughtSignature"] = _signature;
        }
        return part;
    }

    public JsonObject Whole()
    {
        if (_blocked is not null)
        {
            return Response(null, true);
        }
        var candidates = new JsonArray();
        for (var i = 0; i < _candidates; i++)
        {
            var parts = AllParts();
            // A safety stop carries no content parts.
            candidates.Add(parts.Count == 0 ? CandidateWithoutContent(i) : Candidate(i, parts, _finish));
        }
        return Response(candidates, true);
    }

    private JsonObject CandidateWithoutContent(int index)
    {
        var candidate = Candidate(index, [], _finish);
        candidate.Remove("content");
        return candidate;
    }

    /// <summary>Stream events: the thought, then the text word by word, each function call whole in its own event, the finish reason on the last.</summary>
    public List<JsonObject> Events()
    {
        if (_blocked is not null)
        {
            return [Response(null, true)];
        }
        var pieces = new List<JsonObject>();
        if (_thought is not null && _includeThoughts)
        {
            pieces.Add(new JsonObject { ["text"] = _thought, ["thought"] = true });
        }
        var words = _text.Split(' ');
        for (var w = 0; w < words.Length && _text.Length > 0; w++)
        {
            pieces.Add(new JsonObject { ["text"] = w < words.Length - 1 ? words[w] + " " : words[w] });
        }
        foreach (var call in _calls)
        {
            pieces.Add(CallPart(call));
        }
        var events = new List<JsonObject>();
        if (pieces.Count == 0)
        {
            var candidates = new JsonArray();
            for (var i = 0; i < _candidates; i++)
            {
                candidates.Add(CandidateWithoutContent(i));
            }
            events.Add(Response(candidates, true));
            return events;
        }
        for (var k = 0; k < pieces.Count; k++)
        {
            var final = k == pieces.Count - 1;
            var candidates = new JsonArray();
            for (var i = 0; i < _candidates; i++)
            {
                candidates.Add(Candidate(i, new JsonArray(pieces[k].DeepClone()), final ? _finish : null));
            }
            events.Add(Response(candidates, final));
        }
        return events;
    }
}

internal static class StringExtensions
{
    public static bool HasValue(this string? s) => !string.IsNullOrEmpty(s);
}
