using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Streaming;

namespace Switchyard.Core.Logs.Bodies;

/// <summary>
/// Turns a relayed event stream back into the one answer it delivered piecewise: a <c>chat.completion</c> from chat
/// chunks, a <c>text_completion</c> from completion chunks, an Anthropic <c>message</c> from Messages events, and the
/// final <c>response</c> of the Responses API. A stream cut short gives what had arrived. Runs on the log writer,
/// never on the request path.
/// </summary>
public static class StreamReassembler
{
    /// <summary>The reassembled answer, or null when the stream is in none of the known formats (or empty).</summary>
    public static JsonObject? Reassemble(ReadOnlySpan<byte> stream)
    {
        var events = new List<SseEvent>();
        var reader = new SseReader();
        reader.Feed(stream, events);
        reader.Finish(events);
        ChatAssembly? chat = null;
        AnthropicAssembly? anthropic = null;
        ResponsesAssembly? responses = null;
        foreach (var evt in events)
        {
            if (evt.Data.Length == 0 || evt.Data[0] != '{')
            {
                continue; // [DONE], keep-alives
            }
            JsonObject? data;
            try
            {
                data = JsonNode.Parse(evt.Data) as JsonObject;
            }
            catch (JsonException)
            {
                continue; // a fragment cut by the capture limit
            }
            if (data is null)
            {
                continue;
            }
            var type = Str(data["type"]);
            var obj = Str(data["object"]);
            if (obj is "chat.completion.chunk" or "text_completion" || chat is not null && type is null)
            {
                (chat ??= new ChatAssembly()).Add(data);
            }
            else if (type is not null && type.StartsWith("response.", StringComparison.Ordinal))
            {
                (responses ??= new ResponsesAssembly()).Add(type, data);
            }
            else if (type is "message_start" or "content_block_start" or "content_block_delta" or "content_block_stop" or "message_delta" or "message_stop" or "ping")
            {
                (anthropic ??= new AnthropicAssembly()).Add(type, data);
            }
        }
        return chat?.Build() ?? anthropic?.Build() ?? responses?.Build();
    }

    private static string? Str(JsonNode? node) => Translation.ChatJson.String(node);

    private static int Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<int>(out var i) ? i : 0;

    private sealed class ChatAssembly
    {
        private readonly SortedDictionary<int, Choice> _choices = [];
        private JsonObject? _first;
        private JsonNode? _usage;
        private bool _text;

        public void Add(JsonObject chunk)
        {
            if (_first is null)
            {
                _first = chunk;
                _text = Str(chunk["object"]) == "text_completion";
            }
            if (chunk["usage"] is JsonObject usage)
            {
                _usage = usage;
            }
            if (chunk["choices"] is not JsonArray choices)
            {
                return;
            }
            foreach (var c in choices.OfType<JsonObject>())
            {
                var index = Int(c["index"]);
                if (!_choices.TryGetValue(index, out var choice))
                {
                    _choices[index] = choice = new Choice();
                }
                choice.FinishReason = Str(c["finish_reason"]) ?? choice.FinishReason;
                if (Str(c["text"]) is { } text)
                {
                    choice.Content.Append(text);
                }
                if (c["delta"] is not JsonObject delta)
                {
                    continue;
                }
                choice.Role = Str(delta["role"]) ?? choice.Role;
                choice.Content.Append(Str(delta["content"]));
                if ((Str(delta["reasoning_content"]) ?? Str(delta["reasoning"])) is { } reasoning)
                {
                    (choice.Reasoning ??= new StringBuilder()).Append(reasoning);
                }
                if (Str(delta["refusal"]) is { } refusal)
                {
                    (choice.Refusal ??= new StringBuilder()).Append(refusal);
                }
                if (delta["tool_calls"] is JsonArray calls)
                {
                    foreach (var call in calls.OfType<JsonObject>())
                    {
                        var ci = Int(call["index"]);
                        choice.Tools ??= [];
                        if (!choice.Tools.TryGetValue(ci, out var tool))
                        {
                            choice.Tools[ci] = tool = new ToolCall();
                        }
                        tool.Id = Str(call["id"]) ?? tool.Id;
                        tool.Type = Str(call["type"]) ?? tool.Type;
                        if (call["function"] is JsonObject fn)
                        {
                            tool.Name = Str(fn["name"]) ?? tool.Name;
                            tool.Arguments.Append(Str(fn["arguments"]));
                        }
                    }
                }
            }
        }

        public JsonObject Build()
        {
            var result = new JsonObject
            {
                ["id"] = _first?["id"]?.DeepClone(),
                ["object"] = _text ? "text_completion" : "chat.completion",
                ["created"] = _first?["created"]?.DeepClone(),
                ["model"] = _first?["model"]?.DeepClone(),
            };
            if (_first?["system_fingerprint"] is { } fingerprint)
            {
                result["system_fingerprint"] = fingerprint.DeepClone();
            }
            var choices = new JsonArray();
            foreach (var (index, c) in _choices)
            {
                var choice = new JsonObject { ["index"] = index };
                if (_text)
                {
                    choice["text"] = c.Content.ToString();
                }
                else
                {
                    var message = new JsonObject { ["role"] = c.Role ?? "assistant", ["content"] = c.Content.Length > 0 || c.Tools is null ? c.Content.ToString() : null };
                    if (c.Reasoning is not null)
                    {
                        message["reasoning_content"] = c.Reasoning.ToString();
                    }
                    if (c.Refusal is not null)
                    {
                        message["refusal"] = c.Refusal.ToString();
                    }
                    if (c.Tools is not null)
                    {
                        var tools = new JsonArray();
                        foreach (var t in c.Tools.Values)
                        {
                            tools.Add((JsonNode)new JsonObject
                            {
                                ["id"] = t.Id,
                                ["type"] = t.Type ?? "function",
                                ["function"] = new JsonObject { ["name"] = t.Name, ["arguments"] = t.Arguments.ToString() },
                            });
                        }
                        message["tool_calls"] = tools;
                    }
                    choice["message"] = message;
                }
                choice["finish_reason"] = c.FinishReason;
                choices.Add((JsonNode)choice);
            }
            result["choices"] = choices;
            if (_usage is not null)
            {
                result["usage"] = _usage.DeepClone();
            }
            return result;
        }

        private sealed class Choice
        {
            public string? Role;
            public readonly StringBuilder Content = new();
            public StringBuilder? Reasoning;
            public StringBuilder? Refusal;
            public SortedDictionary<int, ToolCall>? Tools;
            public string? FinishReason;
        }

        private sealed class ToolCall
        {
            public string? Id;
            public string? Type;
            public string? Name;
            public readonly StringBuilder Arguments = new();
        }
    }

    private sealed class AnthropicAssembly
    {
        private JsonObject? _message;
        private readonly SortedDictionary<int, (JsonObject Block, StringBuilder? Json)> _blocks = [];

        public void Add(string type, JsonObject data)
        {
            switch (type)
            {
                case "message_start":
                    _message = (data["message"] as JsonObject)?.DeepClone() as JsonObject;
                    break;
                case "content_block_start" when data["content_block"] is JsonObject block:
                    var copy = (JsonObject)block.DeepClone();
                    _blocks[Int(data["index"])] = (copy, Str(copy["type"]) is "tool_use" or "server_tool_use" ? new StringBuilder() : null);
                    break;
                case "content_block_delta" when data["delta"] is JsonObject delta:
                    var index = Int(data["index"]);
                    if (!_blocks.TryGetValue(index, out var entry))
                    {
                        entry = (new JsonObject { ["type"] = "text", ["text"] = "" }, null);
                        _blocks[index] = entry;
                    }
                    switch (Str(delta["type"]))
                    {
                        case "text_delta":
                            entry.Block["text"] = (Str(entry.Block["text"]) ?? "") + Str(delta["text"]);
                            break;
                        case "thinking_delta":
                            entry.Block["thinking"] = (Str(entry.Block["thinking"]) ?? "") + Str(delta["thinking"]);
                            break;
                        case "signature_delta":
                            entry.Block["signature"] = Str(delta["signature"]);
                            break;
                        case "input_json_delta":
                            if (entry.Json is null)
                            {
                                _blocks[index] = entry = (entry.Block, new StringBuilder());
                            }
                            entry.Json.Append(Str(delta["partial_json"]));
                            break;
                    }
                    break;
                case "message_delta":
                    _message ??= new JsonObject { ["type"] = "message", ["role"] = "assistant" };
                    if (data["delta"] is JsonObject md)
                    {
                        foreach (var (k, v) in md)
                        {
                            _message[k] = v?.DeepClone();
                        }
                    }
                    if (data["usage"] is JsonObject usage)
                    {
                        var merged = _message["usage"] as JsonObject ?? new JsonObject();
                        foreach (var (k, v) in usage)
                        {
                            merged[k] = v?.DeepClone();
                        }
                        _message["usage"] = merged;
                    }
                    break;
            }
        }

        public JsonObject Build()
        {
            var message = _message ?? new JsonObject { ["type"] = "message", ["role"] = "assistant" };
            var content = new JsonArray();
            foreach (var (block, json) in _blocks.Values)
            {
                if (json is not null)
                {
                    // The tool input arrives as JSON text in pieces; a stream cut mid-input keeps the text.
                    var text = json.ToString();
                    try
                    {
                        block["input"] = text.Length == 0 ? new JsonObject() : JsonNode.Parse(text);
                    }
                    catch (JsonException)
                    {
                        block["input"] = text;
                    }
                }
                content.Add((JsonNode)block);
            }
            message["content"] = content;
            return message;
        }
    }

    private sealed class ResponsesAssembly
    {
        private JsonObject? _response;
        private bool _final;
        private readonly StringBuilder _text = new();

        public void Add(string type, JsonObject data)
        {
            if (data["response"] is JsonObject response && !_final)
            {
                _response = response;
                _final = type is "response.completed" or "response.incomplete" or "response.failed";
            }
            else if (type == "response.output_text.delta")
            {
                _text.Append(Str(data["delta"]));
            }
        }

        public JsonObject? Build()
        {
            if (_response is null)
            {
                return null;
            }
            var result = (JsonObject)_response.DeepClone();
            if (!_final && _text.Length > 0)
            {
                // Cut before response.completed: the text that did arrive, in the shape the final event would have had.
                result["output"] = new JsonArray(new JsonObject
                {
                    ["type"] = "message",
                    ["role"] = "assistant",
                    ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = _text.ToString() }),
                });
            }
            return result;
        }
    }
}
