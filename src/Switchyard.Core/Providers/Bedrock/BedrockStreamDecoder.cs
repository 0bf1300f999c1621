using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Streaming;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Bedrock;

/// <summary>ConverseStream (binary AWS event stream) → OpenAI chat completion chunks.</summary>
/// <remarks>
/// With strict OpenAI compliance off, each text or reasoning delta also goes out as Portkey's
/// <c>delta.content_blocks: [{index: contentBlockIndex, delta: {text | thinking | signature | data}}]</c>.
/// </remarks>
internal sealed class BedrockStreamDecoder(ChatCall call) : IChatStreamDecoder
{
    private readonly AwsEventStreamDecoder _frames = new();
    private readonly ChatJson.StreamHead _head = new();
    private readonly bool _strict = call.StrictOpenAiCompliance;
    private readonly string _id = "chatcmpl-" + Guid.NewGuid().ToString("N");
    private readonly bool _jsonTool = BedrockRequest.UsesJsonTool(call.Body);
    private readonly Dictionary<int, int> _toolIndexByBlock = [];
    private readonly HashSet<int> _jsonBlocks = [];
    private bool _started;
    private bool _stopped;
    private bool _answeredByJsonTool;

    private TranslationException? _failure;

    public void Feed(ReadOnlySpan<byte> data, List<JsonObject> chunks)
    {
        if (_failure is not null)
        {
            throw _failure;
        }
        var before = chunks.Count;
        _head.Feed(data);
        _frames.Append(data);
        try
        {
            while (_frames.TryReadMessage(out var message))
            {
                Handle(message, chunks);
            }
        }
        catch (AwsEventStreamException ex)
        {
            // Before any event, the body is something else than an event stream (a JSON error page, say): quote it.
            _failure = _started
                ? new TranslationException("The Bedrock event stream is corrupt: " + ex.Message, 502)
                : _head.Invalid(call.Provider, "the answer is not an AWS event stream: " + ex.Message);
        }
        catch (TranslationException ex)
        {
            _failure = ex;
        }
        // Chunks decoded before the failure in this same read still reach the client; the failure follows on the next call.
        if (_failure is not null && chunks.Count == before)
        {
            throw _failure;
        }
    }

    public void Finish(List<JsonObject> chunks)
    {
        if (_failure is not null)
        {
            throw _failure;
        }
        if (!_started && !_stopped)
        {
            throw _head.Invalid(call.Provider, _frames.Pending > 0
                ? $"the answer is not an AWS event stream ({_frames.Pending} bytes that make no complete frame)"
                : "the event stream ended without any Converse event");
        }
        if (_frames.Pending > 0)
        {
            throw new TranslationException($"The Bedrock event stream ended inside a frame ({_frames.Pending} bytes left over)", 502);
        }
        if (!_stopped)
        {
            throw new TranslationException("The Bedrock event stream ended before messageStop", 502);
        }
    }

    private void Handle(AwsEventMessage message, List<JsonObject> chunks)
    {
        var payload = message.Payload.Length == 0 ? new JsonObject() : ChatJson.ParseAnswer(message.Payload.Span, call.Provider, "ConverseStream event");
        if (message.MessageType is "exception" or "error")
        {
            var type = message.ExceptionType ?? (message.Headers.TryGetValue(":error-code", out var c) ? c as string : null) ?? "error";
            var text = ChatJson.String(payload["message"]) ?? ChatJson.String(payload["Message"])
                ?? (message.Headers.TryGetValue(":error-message", out var m) ? m as string : null) ?? "no message";
            throw new TranslationException($"Bedrock reported {type} mid-stream: {text}", 502);
        }
        if (message.MessageType is not "event")
        {
            return;
        }
        switch (message.EventType)
        {
            case "messageStart":
                Start(chunks);
                break;
            case "contentBlockStart":
                Start(chunks);
                if ((payload["start"] as JsonObject)?["toolUse"] is JsonObject use)
                {
                    var block = (int)ChatJson.Long(payload["contentBlockIndex"]);
                    var name = ChatJson.String(use["name"]);
                    if (_jsonTool && name == BedrockRequest.JsonTool)
                    {
                        _jsonBlocks.Add(block);
                        _answeredByJsonTool = true;
                        break;
                    }
                    var index = _toolIndexByBlock.Count;
                    _toolIndexByBlock[block] = index;
                    chunks.Add(Chunk(new JsonObject
                    {
                        ["tool_calls"] = new JsonArray(new JsonObject
                        {
                            ["index"] = index,
                            ["id"] = ChatJson.String(use["toolUseId"]),
                            ["type"] = "function",
                            ["function"] = new JsonObject { ["name"] = name, ["arguments"] = "" },
                        }),
                    }));
                }
                break;
            case "contentBlockDelta":
                Start(chunks);
                Delta(payload, chunks);
                break;
            case "messageStop":
                Start(chunks);
                var native = ChatJson.String(payload["stopReason"]) ?? "end_turn";
                var finish = _answeredByJsonTool && native == "tool_use" ? "stop" : BedrockChatDialect.FinishReason(native);
                var chunk = Chunk(new JsonObject());
                var choice = (JsonObject)((JsonArray)chunk["choices"]!)[0]!;
                choice["finish_reason"] = finish;
                choice["native_finish_reason"] = native;
                chunks.Add(chunk);
                _stopped = true;
                break;
            case "metadata":
                if (payload["usage"] is JsonObject usage)
                {
                    chunks.Add(new JsonObject
                    {
                        ["id"] = _id,
                        ["object"] = "chat.completion.chunk",
                        ["created"] = call.Created,
                        ["model"] = call.Model,
                        ["choices"] = new JsonArray(),
                        ["usage"] = BedrockChatDialect.Usage(usage),
                    });
                }
                break;
        }
    }

    private void Delta(JsonObject payload, List<JsonObject> chunks)
    {
        if (payload["delta"] is not JsonObject delta)
        {
            return;
        }
        var block = (int)ChatJson.Long(payload["contentBlockIndex"]);
        if (delta["toolUse"] is JsonObject use)
        {
            if (ChatJson.String(use["input"]) is not { } fragment)
            {
                return;
            }
            if (_jsonBlocks.Contains(block))
            {
                chunks.Add(Chunk(new JsonObject { ["content"] = fragment }));
            }
            else if (_toolIndexByBlock.TryGetValue(block, out var index))
            {
                chunks.Add(Chunk(new JsonObject
                {
                    ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = index, ["function"] = new JsonObject { ["arguments"] = fragment } }),
                }));
            }
            else
            {
                throw new TranslationException($"Bedrock sent tool input for content block {block} before its contentBlockStart", 502);
            }
            return;
        }
        var output = new JsonObject();
        var nativeBlock = new JsonObject();
        if (ChatJson.String(delta["text"]) is { } text)
        {
            output["content"] = text;
            nativeBlock["text"] = text;
        }
        else if (delta["reasoningContent"] is JsonObject rc)
        {
            var thinkingBlocks = new JsonArray();
            if (ChatJson.String(rc["text"]) is { } thought)
            {
                output["reasoning_content"] = thought;
                nativeBlock["thinking"] = thought;
            }
            if (ChatJson.String(rc["signature"]) is { } sig)
            {
                thinkingBlocks.Add((JsonNode)new JsonObject { ["type"] = "thinking", ["signature"] = sig });
                nativeBlock["signature"] = sig;
            }
            if (ChatJson.String(rc["redactedContent"]) is { } data)
            {
                thinkingBlocks.Add((JsonNode)new JsonObject { ["type"] = "redacted_thinking", ["data"] = data });
                nativeBlock["data"] = data;
            }
            if (thinkingBlocks.Count > 0)
            {
                output["thinking_blocks"] = thinkingBlocks;
            }
        }
        if (!_strict && nativeBlock.Count > 0)
        {
            output["content_blocks"] = new JsonArray(new JsonObject { ["index"] = block, ["delta"] = nativeBlock });
        }
        if (output.Count > 0)
        {
            chunks.Add(Chunk(output));
        }
    }

    private void Start(List<JsonObject> chunks)
    {
        if (_started)
        {
            return;
        }
        _started = true;
        chunks.Add(Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }));
    }

    private JsonObject Chunk(JsonObject delta) => new()
    {
        ["id"] = _id,
        ["object"] = "chat.completion.chunk",
        ["created"] = call.Created,
        ["model"] = call.Model,
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = null }),
    };
}
