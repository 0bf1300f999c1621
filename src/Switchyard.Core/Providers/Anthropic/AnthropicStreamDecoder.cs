using Switchyard.Core.Streaming;
using System.Text;
using System.Text.Json.Nodes;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Anthropic;

/// <summary>
/// Anthropic Messages SSE (message_start … message_stop) → OpenAI <c>chat.completion.chunk</c>s, per the
/// <see cref="IChatStreamDecoder"/> contract. Shared by the Anthropic and Vertex (Claude) adapters.
/// </summary>
/// <remarks>
/// With strict OpenAI compliance off (<paramref name="strict"/> false), every event of a block other than tool_use also
/// goes out as <c>delta.content_blocks: [{index, delta}]</c>: the block's index and the event's payload without its
/// <c>type</c> (Portkey's shape), so a client can rebuild thinking blocks with their signatures.
/// </remarks>
public sealed class AnthropicStreamDecoder(JsonObject chat, long created, string provider = "anthropic", bool strict = true) : IChatStreamDecoder
{
    private readonly SseReader _reader = new();
    private readonly ChatJson.StreamHead _head = new();
    private readonly List<SseEvent> _events = [];
    private readonly bool _jsonTool = AnthropicMessagesCodec.WantsJsonTool(chat);
    private readonly Dictionary<int, int> _toolIndexByBlock = [];
    private readonly HashSet<int> _jsonBlocks = [];
    private string _id = "msg_unknown";
    private string? _model = ChatJson.String(chat["model"]);
    private JsonObject _usage = new();
    private long _outputTokens;
    private bool _started;
    private bool _finished;
    private bool _usageSent;
    private bool _answeredByJsonTool;
    private int _toolCount;

    public void Feed(ReadOnlySpan<byte> data, List<JsonObject> chunks)
    {
        ThrowPending();
        _head.Feed(data);
        _reader.Feed(data, _events);
        Drain(chunks);
    }

    public void Finish(List<JsonObject> chunks)
    {
        ThrowPending();
        _reader.Finish(_events);
        Drain(chunks);
        ThrowPending();
        if (!_started)
        {
            throw _head.Invalid(provider, "the event stream ended without a message_start event");
        }
        if (!_finished)
        {
            throw new TranslationException($"The {provider} stream ended before the message was complete", 502);
        }
        EmitUsage(chunks);
    }

    /// <summary>An error event after chunks decoded in the same slice is raised on the next call, so those chunks still reach the client.</summary>
    private TranslationException? _pending;

    private void ThrowPending()
    {
        if (_pending is { } pending)
        {
            _pending = null;
            throw pending;
        }
    }

    private void Drain(List<JsonObject> chunks)
    {
        try
        {
            foreach (var e in _events)
            {
                if (e.Data.Length == 0)
                {
                    continue;
                }
                var data = ChatJson.ParseAnswer(Encoding.UTF8.GetBytes(e.Data), provider, "stream event");
                Handle(e.Name ?? ChatJson.String(data["type"]) ?? "", data, chunks);
            }
        }
        catch (TranslationException ex) when (chunks.Count > 0)
        {
            _pending = ex;
        }
        finally
        {
            _events.Clear();
        }
    }

    private void Handle(string name, JsonObject data, List<JsonObject> chunks)
    {
        switch (name)
        {
            case "message_start":
                var message = data["message"] as JsonObject;
                _id = ChatJson.String(message?["id"]) ?? _id;
                _model = ChatJson.String(message?["model"]) ?? _model;
                if (message?["usage"] is JsonObject startUsage)
                {
                    _usage = (JsonObject)startUsage.DeepClone();
                    _outputTokens = ChatJson.Long(startUsage["output_tokens"]);
                }
                _started = true;
                chunks.Add(Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }));
                break;
            case "content_block_start":
                RequireStarted(name);
                BlockStart(Index(data), data["content_block"] as JsonObject, chunks);
                break;
            case "content_block_delta":
                RequireStarted(name);
                BlockDelta(Index(data), data["delta"] as JsonObject, chunks);
                break;
            case "message_delta":
                RequireStarted(name);
                if (data["usage"] is JsonObject deltaUsage)
                {
                    // Later usage counts are cumulative; input counts may be repeated (or first given) here.
                    foreach (var (key, value) in deltaUsage)
                    {
                        if (key != "output_tokens" && value is JsonValue)
                        {
                            _usage[key] = value.DeepClone();
                        }
                    }
                    _outputTokens = ChatJson.Long(deltaUsage["output_tokens"]);
                }
                var native = ChatJson.String((data["delta"] as JsonObject)?["stop_reason"]);
                if (native is not null && !_finished)
                {
                    _finished = true;
                    var finish = _answeredByJsonTool && _toolCount == 0 ? "stop" : AnthropicMessagesCodec.FinishReason(native);
                    var chunk = Chunk(new JsonObject(), finish);
                    ((JsonObject)((JsonArray)chunk["choices"]!)[0]!)["native_finish_reason"] = native;
                    chunks.Add(chunk);
                }
                break;
            case "message_stop":
                RequireStarted(name);
                if (!_finished)
                {
                    throw new TranslationException("The upstream stream stopped without a stop_reason", 502);
                }
                EmitUsage(chunks);
                break;
            case "error":
                var error = data["error"] as JsonObject;
                throw new TranslationException(
                    $"The upstream reported an error mid-stream ({ChatJson.String(error?["type"]) ?? "error"}): {ChatJson.String(error?["message"]) ?? data.ToJsonString()}", 502);
            default:
                // ping, content_block_stop and future event types carry nothing for chat.
                break;
        }
    }

    private void RequireStarted(string name)
    {
        if (!_started)
        {
            throw _head.Invalid(provider, $"the event stream sent {name} before message_start");
        }
    }

    private static int Index(JsonObject data) => (int)ChatJson.Long(data["index"]);

    private void BlockStart(int index, JsonObject? block, List<JsonObject> chunks)
    {
        var delta = new JsonObject();
        switch (ChatJson.String(block?["type"]))
        {
            case "text" when ChatJson.String(block!["text"]) is { Length: > 0 } text:
                delta["content"] = text;
                break;
            case "thinking" when ChatJson.String(block!["thinking"]) is { Length: > 0 } thought:
                delta["reasoning_content"] = thought;
                break;
            case "redacted_thinking":
                delta["thinking_blocks"] = new JsonArray(new JsonObject { ["type"] = "redacted_thinking", ["data"] = ChatJson.String(block!["data"]) });
                break;
            case "tool_use" when _jsonTool && ChatJson.String(block!["name"]) == AnthropicMessagesCodec.JsonToolName:
                _jsonBlocks.Add(index);
                _answeredByJsonTool = true;
                return;
            case "tool_use":
                var toolIndex = _toolCount++;
                _toolIndexByBlock[index] = toolIndex;
                chunks.Add(Chunk(new JsonObject
                {
                    ["tool_calls"] = new JsonArray(new JsonObject
                    {
                        ["index"] = toolIndex,
                        ["id"] = ChatJson.String(block!["id"]),
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = ChatJson.String(block["name"]), ["arguments"] = "" },
                    }),
                }));
                return;
        }
        AddContentBlock(delta, index, block);
        Emit(delta, chunks);
    }

    private void BlockDelta(int index, JsonObject? delta, List<JsonObject> chunks)
    {
        var output = new JsonObject();
        switch (ChatJson.String(delta?["type"]))
        {
            case "text_delta":
                output["content"] = ChatJson.String(delta!["text"]) ?? "";
                break;
            case "thinking_delta":
                output["reasoning_content"] = ChatJson.String(delta!["thinking"]) ?? "";
                break;
            case "signature_delta":
                output["thinking_blocks"] = new JsonArray(new JsonObject { ["type"] = "thinking", ["signature"] = ChatJson.String(delta!["signature"]) });
                break;
            case "input_json_delta":
                var partial = ChatJson.String(delta!["partial_json"]) ?? "";
                if (partial.Length == 0)
                {
                    return;
                }
                if (_jsonBlocks.Contains(index))
                {
                    chunks.Add(Chunk(new JsonObject { ["content"] = partial }));
                }
                else if (_toolIndexByBlock.TryGetValue(index, out var toolIndex))
                {
                    chunks.Add(Chunk(new JsonObject
                    {
                        ["tool_calls"] = new JsonArray(new JsonObject
                        {
                            ["index"] = toolIndex,
                            ["function"] = new JsonObject { ["arguments"] = partial },
                        }),
                    }));
                }
                else
                {
                    throw new TranslationException($"The upstream stream sent tool input for block {index}, which is not a tool_use block", 502);
                }
                return;
        }
        AddContentBlock(output, index, delta);
        Emit(output, chunks);
    }

    /// <summary>Strict compliance off: the event's payload without its type, under the block's index (Portkey's stream content_blocks).</summary>
    private void AddContentBlock(JsonObject delta, int index, JsonObject? payload)
    {
        if (strict || payload is null)
        {
            return;
        }
        var copy = (JsonObject)payload.DeepClone();
        copy.Remove("type");
        delta["content_blocks"] = new JsonArray(new JsonObject { ["index"] = index, ["delta"] = copy });
    }

    private void Emit(JsonObject delta, List<JsonObject> chunks)
    {
        if (delta.Count > 0)
        {
            chunks.Add(Chunk(delta));
        }
    }

    private void EmitUsage(List<JsonObject> chunks)
    {
        if (_usageSent)
        {
            return;
        }
        _usageSent = true;
        var chunk = Base();
        chunk["choices"] = new JsonArray();
        chunk["usage"] = AnthropicMessagesCodec.Usage(_usage, _outputTokens);
        chunks.Add(chunk);
    }

    private JsonObject Base() => new()
    {
        ["id"] = _id,
        ["object"] = "chat.completion.chunk",
        ["created"] = created,
        ["model"] = _model,
    };

    private JsonObject Chunk(JsonObject delta, string? finishReason = null)
    {
        var chunk = Base();
        chunk["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["delta"] = delta,
            ["logprobs"] = null,
            ["finish_reason"] = finishReason,
        });
        return chunk;
    }
}
