using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Translation;

/// <summary>
/// OpenAI's Responses API as a client protocol (Codex, the Agents SDK), translated to canonical chat for targets that
/// do not serve <c>/responses</c> themselves. The gateway stores nothing, so <c>previous_response_id</c> is refused.
/// </summary>
public sealed class ResponsesIngress : IIngressProtocol
{
    public EndpointKind Endpoint => EndpointKind.CreateModelResponse;

    public JsonObject ToChat(ReadOnlyMemory<byte> body)
    {
        var root = ChatJson.ParseRequest(body.Span);
        if (root["previous_response_id"] is JsonValue)
        {
            throw new TranslationException("previous_response_id is not supported when the target does not serve the Responses API itself: send the whole conversation in input");
        }
        var chat = new JsonObject { ["model"] = root["model"]?.DeepClone() };
        var messages = new JsonArray();
        if (ChatJson.String(root["instructions"]) is { Length: > 0 } instructions)
        {
            messages.Add((JsonNode?)new JsonObject { ["role"] = "system", ["content"] = instructions });
        }
        switch (root["input"])
        {
            case JsonValue text:
                messages.Add((JsonNode?)new JsonObject { ["role"] = "user", ["content"] = text.ToString() });
                break;
            case JsonArray items:
                AddItems(items, messages);
                break;
            default:
                throw new TranslationException("input: Field required (a string or an array of input items)");
        }
        chat["messages"] = messages;
        if (root["max_output_tokens"] is { } max)
        {
            chat["max_tokens"] = max.DeepClone();
        }
        foreach (var name in (string[])["temperature", "top_p", "stream", "parallel_tool_calls", "user", "top_logprobs", "service_tier"])
        {
            if (root[name] is { } value)
            {
                chat[name] = value.DeepClone();
            }
        }
        if (root["reasoning"] is JsonObject reasoning && ChatJson.String(reasoning["effort"]) is { } effort)
        {
            chat["reasoning_effort"] = effort;
        }
        if (root["tools"] is JsonArray tools && tools.Count > 0)
        {
            chat["tools"] = Tools(tools);
        }
        if (root["tool_choice"] is { } choice)
        {
            chat["tool_choice"] = choice switch
            {
                JsonValue v => v.ToString(),
                JsonObject o when ChatJson.String(o["type"]) == "function" =>
                    new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = o["name"]?.DeepClone() } },
                _ => throw new TranslationException("tool_choice: only auto, none, required or a function can be translated"),
            };
        }
        if (root["text"] is JsonObject textOptions && textOptions["format"] is JsonObject format)
        {
            switch (ChatJson.String(format["type"]))
            {
                case "json_schema":
                    var schema = new JsonObject { ["name"] = format["name"]?.DeepClone() ?? "response", ["schema"] = format["schema"]?.DeepClone() };
                    if (format["strict"] is { } strict)
                    {
                        schema["strict"] = strict.DeepClone();
                    }
                    if (format["description"] is { } description)
                    {
                        schema["description"] = description.DeepClone();
                    }
                    chat["response_format"] = new JsonObject { ["type"] = "json_schema", ["json_schema"] = schema };
                    break;
                case "json_object":
                    chat["response_format"] = new JsonObject { ["type"] = "json_object" };
                    break;
            }
        }
        return chat;
    }

    private static void AddItems(JsonArray items, JsonArray messages)
    {
        JsonObject? pendingCalls = null;
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is not JsonObject item)
            {
                throw new TranslationException($"input[{i}]: must be an object");
            }
            var type = ChatJson.String(item["type"]) ?? (item["role"] is not null ? "message" : null);
            if (type != "function_call")
            {
                pendingCalls = null;
            }
            switch (type)
            {
                case "message":
                    messages.Add((JsonNode?)Message(item, i));
                    break;
                case "function_call":
                    if (pendingCalls is null)
                    {
                        pendingCalls = new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray() };
                        messages.Add((JsonNode?)pendingCalls);
                    }
                    ((JsonArray)pendingCalls["tool_calls"]!).Add((JsonNode?)new JsonObject
                    {
                        ["id"] = item["call_id"]?.DeepClone(),
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = item["name"]?.DeepClone(), ["arguments"] = item["arguments"]?.DeepClone() ?? "{}" },
                    });
                    break;
                case "function_call_output":
                    messages.Add((JsonNode?)new JsonObject
                    {
                        ["role"] = "tool",
                        ["tool_call_id"] = item["call_id"]?.DeepClone(),
                        ["content"] = item["output"] is JsonValue output ? output.ToString() : item["output"]?.ToJsonString() ?? "",
                    });
                    break;
                case "reasoning":
                    break; // Reasoning items from an earlier turn carry nothing another provider can use.
                default:
                    throw new TranslationException($"input[{i}].type: '{type}' cannot be translated for this provider");
            }
        }
    }

    private static JsonObject Message(JsonObject item, int index)
    {
        var role = ChatJson.String(item["role"]) ?? "user";
        if (role is not ("user" or "assistant" or "system" or "developer"))
        {
            throw new TranslationException($"input[{index}].role: must be user, assistant, system or developer");
        }
        if (item["content"] is JsonValue text)
        {
            return new JsonObject { ["role"] = role, ["content"] = text.ToString() };
        }
        if (item["content"] is not JsonArray parts)
        {
            throw new TranslationException($"input[{index}].content: must be a string or an array");
        }
        if (role == "assistant")
        {
            var sb = new StringBuilder();
            foreach (var part in parts.OfType<JsonObject>())
            {
                sb.Append(ChatJson.String(part["text"]));
            }
            return new JsonObject { ["role"] = role, ["content"] = sb.ToString() };
        }
        var content = new JsonArray();
        foreach (var part in parts.OfType<JsonObject>())
        {
            switch (ChatJson.String(part["type"]))
            {
                case "input_text" or "output_text" or "text":
                    content.Add((JsonNode?)new JsonObject { ["type"] = "text", ["text"] = part["text"]?.DeepClone() });
                    break;
                case "input_image":
                    var url = ChatJson.String(part["image_url"]) ?? throw new TranslationException($"input[{index}]: input_image needs image_url (file_id cannot be translated)");
                    var image = new JsonObject { ["url"] = url };
                    if (part["detail"] is { } detail)
                    {
                        image["detail"] = detail.DeepClone();
                    }
                    content.Add((JsonNode?)new JsonObject { ["type"] = "image_url", ["image_url"] = image });
                    break;
                case "input_file" when ChatJson.String(part["file_data"]) is { } data:
                    content.Add((JsonNode?)new JsonObject { ["type"] = "file", ["file"] = new JsonObject { ["file_data"] = data, ["filename"] = part["filename"]?.DeepClone() } });
                    break;
                default:
                    throw new TranslationException($"input[{index}].content: part type '{ChatJson.String(part["type"])}' cannot be translated for this provider");
            }
        }
        return new JsonObject { ["role"] = role, ["content"] = content };
    }

    private static JsonArray Tools(JsonArray tools)
    {
        var output = new JsonArray();
        foreach (var tool in tools.OfType<JsonObject>())
        {
            var type = ChatJson.String(tool["type"]);
            if (type != "function")
            {
                throw new TranslationException($"tools: the built-in tool '{type}' needs a target that serves the Responses API itself");
            }
            var function = new JsonObject { ["name"] = tool["name"]?.DeepClone(), ["parameters"] = tool["parameters"]?.DeepClone() ?? new JsonObject { ["type"] = "object" } };
            if (tool["description"] is { } description)
            {
                function["description"] = description.DeepClone();
            }
            if (tool["strict"] is { } strict)
            {
                function["strict"] = strict.DeepClone();
            }
            output.Add((JsonNode?)new JsonObject { ["type"] = "function", ["function"] = function });
        }
        return output;
    }

    public byte[] FromChat(JsonObject completion, ChatCall call)
    {
        var choice = (completion["choices"] as JsonArray)?.FirstOrDefault() as JsonObject;
        var message = choice?["message"] as JsonObject;
        var output = new JsonArray();
        if (ChatJson.String(message?["reasoning_content"]) is { Length: > 0 } reasoning)
        {
            output.Add((JsonNode?)ReasoningItem(NewId("rs"), reasoning));
        }
        if (ChatJson.String(message?["content"]) is { Length: > 0 } text)
        {
            output.Add((JsonNode?)MessageItem(NewId("msg"), text, "completed"));
        }
        if (message?["tool_calls"] is JsonArray calls)
        {
            foreach (var c in calls.OfType<JsonObject>())
            {
                var function = c["function"] as JsonObject;
                output.Add((JsonNode?)FunctionItem(NewId("fc"), ChatJson.String(c["id"]) ?? NewId("call"), ChatJson.String(function?["name"]) ?? "",
                    ChatJson.String(function?["arguments"]) ?? "{}", "completed"));
            }
        }
        var response = Envelope(call, ResponseId(completion["id"]), ChatJson.String(completion["model"]) ?? call.Model, ChatJson.Long(completion["created"]));
        Complete(response, output, ChatJson.String(choice?["finish_reason"]), completion["usage"] as JsonObject);
        return ChatJson.Serialize(response);
    }

    private static string NewId(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N");

    private static string ResponseId(JsonNode? id) => ChatJson.String(id) is { } text ? (text.StartsWith("resp_", StringComparison.Ordinal) ? text : "resp_" + text) : NewId("resp");

    /// <summary>The response object's fixed fields, echoing the request's settings.</summary>
    private static JsonObject Envelope(ChatCall call, string id, string? model, long created)
    {
        var request = call.Request.ParsedBody;
        JsonNode? Echo(string name) => request.ValueKind == JsonValueKind.Object && request.TryGetProperty(name, out var v) ? JsonNode.Parse(v.GetRawText()) : null;
        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "response",
            ["created_at"] = created > 0 ? created : call.Created,
            ["status"] = "in_progress",
            ["error"] = null,
            ["incomplete_details"] = null,
            ["instructions"] = Echo("instructions"),
            ["max_output_tokens"] = Echo("max_output_tokens"),
            ["model"] = model,
            ["output"] = new JsonArray(),
            ["parallel_tool_calls"] = Echo("parallel_tool_calls") ?? true,
            ["previous_response_id"] = null,
            ["reasoning"] = Echo("reasoning") ?? new JsonObject { ["effort"] = null, ["summary"] = null },
            ["store"] = false,
            ["temperature"] = Echo("temperature") ?? 1.0,
            ["text"] = Echo("text") ?? new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } },
            ["tool_choice"] = Echo("tool_choice") ?? "auto",
            ["tools"] = Echo("tools") ?? new JsonArray(),
            ["top_p"] = Echo("top_p") ?? 1.0,
            ["truncation"] = "disabled",
            ["usage"] = null,
            ["user"] = Echo("user"),
            ["metadata"] = Echo("metadata") ?? new JsonObject(),
        };
    }

    private static void Complete(JsonObject response, JsonArray output, string? finishReason, JsonObject? usage)
    {
        response["output"] = output;
        switch (finishReason)
        {
            case "length":
                response["status"] = "incomplete";
                response["incomplete_details"] = new JsonObject { ["reason"] = "max_output_tokens" };
                break;
            case "content_filter":
                response["status"] = "incomplete";
                response["incomplete_details"] = new JsonObject { ["reason"] = "content_filter" };
                break;
            default:
                response["status"] = "completed";
                break;
        }
        response["usage"] = Usage(usage);
    }

    internal static JsonObject Usage(JsonObject? usage)
    {
        var prompt = ChatJson.Long(usage?["prompt_tokens"]);
        var completion = ChatJson.Long(usage?["completion_tokens"]);
        return new JsonObject
        {
            ["input_tokens"] = prompt,
            ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = ChatJson.Long((usage?["prompt_tokens_details"] as JsonObject)?["cached_tokens"]) },
            ["output_tokens"] = completion,
            ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = ChatJson.Long((usage?["completion_tokens_details"] as JsonObject)?["reasoning_tokens"]) },
            ["total_tokens"] = usage?["total_tokens"] is { } total ? ChatJson.Long(total) : prompt + completion,
        };
    }

    private static JsonObject MessageItem(string id, string text, string status) => new()
    {
        ["type"] = "message",
        ["id"] = id,
        ["status"] = status,
        ["role"] = "assistant",
        ["content"] = new JsonArray(OutputText(text)),
    };

    private static JsonObject OutputText(string text) => new() { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray(), ["logprobs"] = new JsonArray() };

    private static JsonObject FunctionItem(string id, string callId, string name, string arguments, string status) => new()
    {
        ["type"] = "function_call",
        ["id"] = id,
        ["call_id"] = callId,
        ["name"] = name,
        ["arguments"] = arguments,
        ["status"] = status,
    };

    private static JsonObject ReasoningItem(string id, string text) => new()
    {
        ["type"] = "reasoning",
        ["id"] = id,
        ["summary"] = new JsonArray(new JsonObject { ["type"] = "summary_text", ["text"] = text }),
    };

    public IClientStreamEncoder CreateStreamEncoder(ChatCall call) => new Encoder(call);

    public byte[] ErrorBody(int status, ProviderError error, string provider) => ChatIngress.OpenAiErrorBody(error, provider);

    /// <summary>Canonical chunks → Responses streaming events, each with a sequence number.</summary>
    private sealed class Encoder(ChatCall call) : IClientStreamEncoder
    {
        private readonly JsonArray _output = [];
        private JsonObject? _response;
        private int _sequence;
        private string? _finishReason;
        private JsonObject? _usage;

        // The item being streamed: a message, a reasoning summary, or function calls keyed by the chunk's tool index.
        private JsonObject? _message;
        private StringBuilder? _text;
        private JsonObject? _reasoning;
        private StringBuilder? _reasoningText;
        private readonly Dictionary<int, (JsonObject Item, StringBuilder Arguments, int OutputIndex)> _calls = [];

        public void Encode(JsonObject chunk, IBufferWriter<byte> output)
        {
            if (chunk["usage"] is JsonObject usage)
            {
                _usage = usage;
            }
            Start(chunk, output);
            if (chunk["choices"] is not JsonArray { Count: > 0 } choices || choices[0] is not JsonObject choice)
            {
                return;
            }
            if (choice["delta"] is JsonObject delta)
            {
                if (ChatJson.String(delta["reasoning_content"]) is { Length: > 0 } reasoning)
                {
                    if (_reasoning is null)
                    {
                        CloseMessage(output);
                        _reasoning = ReasoningItem(NewId("rs"), "");
                        _reasoning["summary"] = new JsonArray();
                        _reasoningText = new StringBuilder();
                        Added(_reasoning, output);
                        Emit(output, "response.reasoning_summary_part.added", new JsonObject
                        {
                            ["item_id"] = _reasoning["id"]!.DeepClone(), ["output_index"] = IndexOf(_reasoning), ["summary_index"] = 0,
                            ["part"] = new JsonObject { ["type"] = "summary_text", ["text"] = "" },
                        });
                    }
                    _reasoningText!.Append(reasoning);
                    Emit(output, "response.reasoning_summary_text.delta", new JsonObject
                    {
                        ["item_id"] = _reasoning["id"]!.DeepClone(), ["output_index"] = IndexOf(_reasoning), ["summary_index"] = 0, ["delta"] = reasoning,
                    });
                }
                if (ChatJson.String(delta["content"]) is { Length: > 0 } text)
                {
                    CloseReasoning(output);
                    if (_message is null)
                    {
                        _message = MessageItem(NewId("msg"), "", "in_progress");
                        _message["content"] = new JsonArray();
                        _text = new StringBuilder();
                        Added(_message, output);
                        Emit(output, "response.content_part.added", new JsonObject
                        {
                            ["item_id"] = _message["id"]!.DeepClone(), ["output_index"] = IndexOf(_message), ["content_index"] = 0, ["part"] = OutputText(""),
                        });
                    }
                    _text!.Append(text);
                    Emit(output, "response.output_text.delta", new JsonObject
                    {
                        ["item_id"] = _message["id"]!.DeepClone(), ["output_index"] = IndexOf(_message), ["content_index"] = 0, ["delta"] = text, ["logprobs"] = new JsonArray(),
                    });
                }
                if (delta["tool_calls"] is JsonArray calls)
                {
                    CloseReasoning(output);
                    CloseMessage(output);
                    foreach (var c in calls.OfType<JsonObject>())
                    {
                        var index = (int)ChatJson.Long(c["index"]);
                        var function = c["function"] as JsonObject;
                        if (!_calls.TryGetValue(index, out var entry))
                        {
                            var item = FunctionItem(NewId("fc"), ChatJson.String(c["id"]) ?? NewId("call"), ChatJson.String(function?["name"]) ?? "", "", "in_progress");
                            Added(item, output);
                            entry = (item, new StringBuilder(), IndexOf(item));
                            _calls[index] = entry;
                        }
                        if (ChatJson.String(function?["arguments"]) is { Length: > 0 } fragment)
                        {
                            entry.Arguments.Append(fragment);
                            Emit(output, "response.function_call_arguments.delta", new JsonObject
                            {
                                ["item_id"] = entry.Item["id"]!.DeepClone(), ["output_index"] = entry.OutputIndex, ["delta"] = fragment,
                            });
                        }
                    }
                }
            }
            if (ChatJson.String(choice["finish_reason"]) is { } finish)
            {
                _finishReason = finish;
            }
        }

        private int IndexOf(JsonObject item) => _output.IndexOf(item);

        private void Start(JsonObject chunk, IBufferWriter<byte> output)
        {
            if (_response is not null)
            {
                return;
            }
            _response = Envelope(call, ResponseId(chunk["id"]), ChatJson.String(chunk["model"]) ?? call.Model, ChatJson.Long(chunk["created"]));
            Emit(output, "response.created", new JsonObject { ["response"] = _response.DeepClone() });
            Emit(output, "response.in_progress", new JsonObject { ["response"] = _response.DeepClone() });
        }

        private void Added(JsonObject item, IBufferWriter<byte> output)
        {
            _output.Add((JsonNode?)item);
            Emit(output, "response.output_item.added", new JsonObject { ["output_index"] = IndexOf(item), ["item"] = item.DeepClone() });
        }

        private void Done(JsonObject item, IBufferWriter<byte> output) =>
            Emit(output, "response.output_item.done", new JsonObject { ["output_index"] = IndexOf(item), ["item"] = item.DeepClone() });

        private void CloseMessage(IBufferWriter<byte> output)
        {
            if (_message is null)
            {
                return;
            }
            var text = _text!.ToString();
            var id = _message["id"]!.GetValue<string>();
            var index = IndexOf(_message);
            Emit(output, "response.output_text.done", new JsonObject { ["item_id"] = id, ["output_index"] = index, ["content_index"] = 0, ["text"] = text, ["logprobs"] = new JsonArray() });
            Emit(output, "response.content_part.done", new JsonObject { ["item_id"] = id, ["output_index"] = index, ["content_index"] = 0, ["part"] = OutputText(text) });
            _message["status"] = "completed";
            _message["content"] = new JsonArray(OutputText(text));
            Done(_message, output);
            _message = null;
        }

        private void CloseReasoning(IBufferWriter<byte> output)
        {
            if (_reasoning is null)
            {
                return;
            }
            var text = _reasoningText!.ToString();
            var id = _reasoning["id"]!.GetValue<string>();
            var index = IndexOf(_reasoning);
            Emit(output, "response.reasoning_summary_text.done", new JsonObject { ["item_id"] = id, ["output_index"] = index, ["summary_index"] = 0, ["text"] = text });
            var part = new JsonObject { ["type"] = "summary_text", ["text"] = text };
            Emit(output, "response.reasoning_summary_part.done", new JsonObject { ["item_id"] = id, ["output_index"] = index, ["summary_index"] = 0, ["part"] = part.DeepClone() });
            _reasoning["summary"] = new JsonArray(part);
            Done(_reasoning, output);
            _reasoning = null;
        }

        private void CloseCalls(IBufferWriter<byte> output)
        {
            foreach (var (item, arguments, index) in _calls.Values.OrderBy(c => c.OutputIndex))
            {
                var text = arguments.ToString();
                Emit(output, "response.function_call_arguments.done", new JsonObject { ["item_id"] = item["id"]!.DeepClone(), ["output_index"] = index, ["arguments"] = text });
                item["arguments"] = text;
                item["status"] = "completed";
                Done(item, output);
            }
            _calls.Clear();
        }

        private void Emit(IBufferWriter<byte> output, string type, JsonObject data)
        {
            var ordered = new JsonObject { ["type"] = type, ["sequence_number"] = _sequence++ };
            foreach (var (key, value) in data.ToList())
            {
                data.Remove(key);
                ordered[key] = value;
            }
            Sse.WriteEvent(output, type, ordered);
        }

        public void Finish(IBufferWriter<byte> output)
        {
            _response ??= Envelope(call, NewId("resp"), call.Model, 0);
            CloseReasoning(output);
            CloseMessage(output);
            CloseCalls(output);
            Complete(_response, (JsonArray)_output.DeepClone(), _finishReason, _usage);
            var status = ChatJson.String(_response["status"]);
            Emit(output, status == "completed" ? "response.completed" : "response.incomplete", new JsonObject { ["response"] = _response });
        }

        public void Fail(string message, IBufferWriter<byte> output) =>
            Emit(output, "error", new JsonObject { ["code"] = "upstream_stream_error", ["message"] = message, ["param"] = null });
    }
}
