using Switchyard.Core.Streaming;
using System.Text;
using System.Text.Json.Nodes;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Google;

/// <summary>
/// <c>streamGenerateContent?alt=sse</c> (each event a whole <c>GenerateContentResponse</c>) → chat chunks.
/// </summary>
/// <remarks>
/// Gemini sends a function call whole, in one part, so a tool call becomes one delta carrying index, id, name and the
/// complete arguments. Usage metadata repeats on every event; the last one wins and goes out as the usage chunk.
/// With strict OpenAI compliance off, text and thought parts also go out as Portkey's <c>delta.content_blocks</c>
/// (<c>[{index: 0, delta: {thinking}}]</c>, text at index 1 once thoughts were seen, else 0), calls carry
/// <c>function.thought_signature</c>, and a candidate's <c>groundingMetadata</c> is passed on.
/// </remarks>
public sealed class GeminiStreamDecoder(ChatCall call) : IChatStreamDecoder
{
    private readonly SseReader _reader = new();
    private readonly ChatJson.StreamHead _head = new();
    private readonly bool _strict = call.StrictOpenAiCompliance;
    private bool _answered;
    private bool _sawThought;
    private readonly List<SseEvent> _events = [];
    private readonly Dictionary<int, CandidateState> _candidates = [];
    private JsonObject? _usage;
    private string? _id;
    private string? _model;

    private sealed class CandidateState
    {
        public bool RoleSent;
        public int ToolCalls;
        public bool Finished;
    }

    public void Feed(ReadOnlySpan<byte> data, List<JsonObject> chunks)
    {
        _head.Feed(data);
        _reader.Feed(data, _events);
        Drain(chunks);
    }

    public void Finish(List<JsonObject> chunks)
    {
        _reader.Finish(_events);
        Drain(chunks);
        if (!_answered)
        {
            throw _head.Invalid(call.Provider, "the event stream ended without any event holding candidates or promptFeedback");
        }
        if (_usage is not null)
        {
            var chunk = Chunk([]);
            chunk["usage"] = GeminiResponse.Usage(_usage);
            chunks.Add(chunk);
        }
    }

    private void Drain(List<JsonObject> chunks)
    {
        foreach (var e in _events)
        {
            if (e.Data.Length == 0)
            {
                continue;
            }
            var bytes = Encoding.UTF8.GetBytes(e.Data);
            var response = ChatJson.ParseAnswer(bytes, call.Provider, "stream event");
            if (response["error"] is JsonObject error)
            {
                throw new TranslationException("The upstream reported an error mid-stream: " + (ChatJson.String(error["message"]) ?? error.ToJsonString()), 502);
            }
            if (response["candidates"] is JsonArray || response["promptFeedback"] is JsonObject)
            {
                _answered = true;
            }
            else if (response["usageMetadata"] is not JsonObject)
            {
                throw ChatJson.InvalidAnswer(call.Provider, "a stream event has no candidates, promptFeedback or usageMetadata", bytes);
            }
            Event(response, chunks);
        }
        _events.Clear();
    }

    private void Event(JsonObject response, List<JsonObject> chunks)
    {
        _id ??= GeminiResponse.CompletionId(response);
        _model ??= ChatJson.String(response["modelVersion"]) ?? call.Model;
        if (response["usageMetadata"] is JsonObject usage)
        {
            _usage = usage;
        }
        if (response["candidates"] is not JsonArray { Count: > 0 } candidates)
        {
            if (ChatJson.String(response["promptFeedback"]?["blockReason"]) is { } block)
            {
                var state = State(0);
                var delta = new JsonObject();
                Role(state, delta);
                chunks.Add(Chunk(new JsonArray(Choice(0, delta, "content_filter", block))));
                state.Finished = true;
            }
            return;
        }
        foreach (var node in candidates)
        {
            if (node is not JsonObject candidate)
            {
                continue;
            }
            var index = candidate["index"] is JsonValue i && i.TryGetValue<int>(out var n) ? n : 0;
            var state = State(index);
            var (text, thoughts, toolCalls) = GeminiResponse.Parts(candidate, state.ToolCalls, _strict);
            state.ToolCalls += toolCalls.Count;
            var grounding = _strict ? null : candidate["groundingMetadata"] as JsonObject;
            if (text.Length > 0 || thoughts.Length > 0 || toolCalls.Count > 0 || !state.RoleSent || grounding is not null)
            {
                var delta = new JsonObject();
                Role(state, delta);
                if (thoughts.Length > 0)
                {
                    delta["reasoning_content"] = thoughts.ToString();
                }
                if (text.Length > 0 || (toolCalls.Count == 0 && thoughts.Length == 0))
                {
                    delta["content"] = text.ToString();
                }
                if (toolCalls.Count > 0)
                {
                    delta["tool_calls"] = toolCalls;
                }
                if (!_strict && StreamContentBlocks(candidate) is { Count: > 0 } blocks)
                {
                    delta["content_blocks"] = blocks;
                }
                var choice = Choice(index, delta, null, null);
                if (grounding is not null)
                {
                    choice["groundingMetadata"] = grounding.DeepClone();
                }
                chunks.Add(Chunk(new JsonArray(choice)));
            }
            if (ChatJson.String(candidate["finishReason"]) is { } native && !state.Finished)
            {
                state.Finished = true;
                chunks.Add(Chunk(new JsonArray(Choice(index, new JsonObject(), GeminiResponse.FinishReason(native, state.ToolCalls > 0), native))));
            }
        }
    }

    /// <summary>Portkey's stream content_blocks: thoughts at index 0, text at 1 once a thought was seen (else 0).</summary>
    private JsonArray StreamContentBlocks(JsonObject candidate)
    {
        var blocks = new JsonArray();
        foreach (var part in (candidate["content"]?["parts"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (part["functionCall"] is JsonObject || ChatJson.String(part["text"]) is not { Length: > 0 } text)
            {
                continue;
            }
            if (GeminiResponse.IsThought(part))
            {
                _sawThought = true;
                blocks.Add((JsonNode)new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["thinking"] = text } });
            }
            else
            {
                blocks.Add((JsonNode)new JsonObject { ["index"] = _sawThought ? 1 : 0, ["delta"] = new JsonObject { ["text"] = text } });
            }
        }
        return blocks;
    }

    private CandidateState State(int index)
    {
        if (!_candidates.TryGetValue(index, out var state))
        {
            _candidates[index] = state = new CandidateState();
        }
        return state;
    }

    private static void Role(CandidateState state, JsonObject delta)
    {
        if (!state.RoleSent)
        {
            delta["role"] = "assistant";
            state.RoleSent = true;
        }
    }

    private static JsonObject Choice(int index, JsonObject delta, string? finish, string? native)
    {
        var choice = new JsonObject { ["index"] = index, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finish };
        if (native is not null)
        {
            choice["native_finish_reason"] = native;
        }
        return choice;
    }

    private JsonObject Chunk(JsonArray choices) => new()
    {
        ["id"] = _id ??= "chatcmpl-" + Guid.NewGuid().ToString("N"),
        ["object"] = "chat.completion.chunk",
        ["created"] = call.Created,
        ["model"] = _model ?? call.Model,
        ["choices"] = choices,
    };
}
