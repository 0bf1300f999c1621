using Switchyard.Core.Streaming;
using System.Text;
using System.Text.Json.Nodes;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Anthropic;

/// <summary>
/// Anthropic Messages SSE (message_start … message_stop) → OpenAI <c>chat.completion.chunk</c>s, per the
/// <see cref="IChatStreamDecoder"/> contract. Shared by the Anthropic and Vertex (Claude) adapters.
/// </summary>
public sealed class AnthropicStreamDecoder(JsonObject chat, long created) : IChatStreamDecoder
{
    private readonly SseReader _reader = new();
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
            throw new TranslationException("The upstream stream ended before message_start", 502);
        }
        if (!_finished)
        {
            throw new TranslationException("The upstream stream ended before the message was complete", 502);
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
                var data = ChatJson.ParseObject(Encoding.UTF8.GetBytes(e.Data), "stream event");
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
            throw new TranslationException($"The upstream stream sent {name} before message_start", 502);
        }
    }

    private static int Index(JsonObject data) => (int)ChatJson.Long(data["index"]);

    private void BlockStart(int index, JsonObject? block, List<JsonObject> chunks)
    {
        switch (ChatJson.String(block?["type"]))
        {
            case "text" when ChatJson.String(block!["text"]) is { Length: > 0 } text:
                chunks.Add(Chunk(new JsonObject { ["content"] = text }));
                break;
            case "thinking" when ChatJson.String(block!["thinking"]) is { Length: > 0 } thought:
                chunks.Add(Chunk(new JsonObject { ["reasoning_content"] = thought }));
                break;
            case "redacted_thinking":
                chunks.Add(Chunk(new JsonObject
                {
                    ["thinking_blocks"] = new JsonArray(new JsonObject { ["type"] = "redacted_thinking", ["data"] = ChatJson.String(block!["data"]) }),
                }));
                break;
            case "tool_use" when _jsonTool && ChatJson.String(block!["name"]) == AnthropicMessagesCodec.JsonToolName:
                _jsonBlocks.Add(index);
                _answeredByJsonTool = true;
                break;
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
                break;
        }
    }

    private void BlockDelta(int index, JsonObject? delta, List<JsonObject> chunks)
    {
        switch (ChatJson.String(delta?["type"]))
        {
            case "text_delta":
                chunks.Add(Chunk(new JsonObject { ["content"] = ChatJson.String(delta!["text"]) ?? "" }));
                break;
            case "thinking_delta":
                chunks.Add(Chunk(new JsonObject { ["reasoning_content"] = ChatJson.String(delta!["thinking"]) ?? "" }));
                break;
            case "signature_delta":
                chunks.Add(Chunk(new JsonObject
                {
                    ["thinking_blocks"] = new JsonArray(new JsonObject { ["type"] = "thinking", ["signature"] = ChatJson.String(delta!["signature"]) }),
                }));
                break;
            case "input_json_delta":
                var partial = ChatJson.String(delta!["partial_json"]) ?? "";
                if (partial.Length == 0)
                {
                    break;
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
                break;
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
