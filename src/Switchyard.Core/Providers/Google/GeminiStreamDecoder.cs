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
/// </remarks>
public sealed class GeminiStreamDecoder(ChatCall call) : IChatStreamDecoder
{
    private readonly SseReader _reader = new();
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
        _reader.Feed(data, _events);
        Drain(chunks);
    }

    public void Finish(List<JsonObject> chunks)
    {
        _reader.Finish(_events);
        Drain(chunks);
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
            var response = ChatJson.ParseObject(Encoding.UTF8.GetBytes(e.Data), "Gemini stream event");
            if (response["error"] is JsonObject error)
            {
                throw new TranslationException("The upstream reported an error mid-stream: " + (ChatJson.String(error["message"]) ?? error.ToJsonString()), 502);
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
            var (text, thoughts, toolCalls) = GeminiResponse.Parts(candidate, state.ToolCalls);
            state.ToolCalls += toolCalls.Count;
            if (text.Length > 0 || thoughts.Length > 0 || toolCalls.Count > 0 || !state.RoleSent)
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
                chunks.Add(Chunk(new JsonArray(Choice(index, delta, null, null))));
            }
            if (ChatJson.String(candidate["finishReason"]) is { } native && !state.Finished)
            {
                state.Finished = true;
                chunks.Add(Chunk(new JsonArray(Choice(index, new JsonObject(), GeminiResponse.FinishReason(native, state.ToolCalls > 0), native))));
            }
        }
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
