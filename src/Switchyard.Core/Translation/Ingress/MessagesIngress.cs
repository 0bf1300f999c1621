using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Translation;

/// <summary>
/// Anthropic's Messages API as a client protocol (Claude Code, the Anthropic SDKs), translated to canonical chat for
/// targets that do not speak it. Anthropic targets receive the client's bytes untouched instead.
/// </summary>
public sealed class MessagesIngress : IIngressProtocol
{
    public EndpointKind Endpoint => EndpointKind.Messages;

    public JsonObject ToChat(ReadOnlyMemory<byte> body)
    {
        var root = ChatJson.ParseRequest(body.Span);
        var chat = new JsonObject();
        Copy(root, "model", chat, "model");
        if (root["max_tokens"] is null)
        {
            throw new TranslationException("max_tokens: Field required");
        }
        if (root["messages"] is not JsonArray messages)
        {
            throw new TranslationException("messages: Field required (an array of messages)");
        }
        chat["max_tokens"] = root["max_tokens"]!.DeepClone();
        var output = new JsonArray();
        if (root["system"] is { } system)
        {
            output.Add((JsonNode?)SystemMessage(system));
        }
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not JsonObject message)
            {
                throw new TranslationException($"messages.{i}: must be an object");
            }
            var role = ChatJson.String(message["role"]);
            switch (role)
            {
                case "user":
                    AddUser(message["content"], output, i);
                    break;
                case "assistant":
                    output.Add((JsonNode?)Assistant(message["content"], i));
                    break;
                default:
                    throw new TranslationException($"messages.{i}.role: Input should be 'user' or 'assistant'");
            }
        }
        chat["messages"] = output;
        Copy(root, "temperature", chat, "temperature");
        Copy(root, "top_p", chat, "top_p");
        Copy(root, "top_k", chat, "top_k");
        Copy(root, "stream", chat, "stream");
        Copy(root, "thinking", chat, "thinking");
        if (root["stop_sequences"] is JsonArray stops && stops.Count > 0)
        {
            chat["stop"] = stops.DeepClone();
        }
        if (root["metadata"] is JsonObject metadata && ChatJson.String(metadata["user_id"]) is { } user)
        {
            chat["user"] = user;
        }
        if (root["tools"] is JsonArray tools && tools.Count > 0)
        {
            chat["tools"] = Tools(tools);
        }
        if (root["tool_choice"] is JsonObject choice)
        {
            var type = ChatJson.String(choice["type"]);
            chat["tool_choice"] = type switch
            {
                "auto" => "auto",
                "any" => "required",
                "none" => "none",
                "tool" => new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = choice["name"]?.DeepClone() } },
                _ => throw new TranslationException($"tool_choice.type: '{type}' is not one of auto, any, tool, none"),
            };
            if (choice["disable_parallel_tool_use"] is JsonValue d && d.TryGetValue<bool>(out var disable) && disable)
            {
                chat["parallel_tool_calls"] = false;
            }
        }
        return chat;
    }

    private static void Copy(JsonObject from, string name, JsonObject to, string as_)
    {
        if (from[name] is { } value)
        {
            to[as_] = value.DeepClone();
        }
    }

    private static JsonObject SystemMessage(JsonNode system)
    {
        if (system is JsonValue)
        {
            return new JsonObject { ["role"] = "system", ["content"] = system.DeepClone() };
        }
        if (system is not JsonArray blocks)
        {
            throw new TranslationException("system must be a string or an array of text blocks");
        }
        var parts = new JsonArray();
        foreach (var block in blocks)
        {
            if (block is JsonObject b && ChatJson.String(b["type"]) == "text")
            {
                var part = new JsonObject { ["type"] = "text", ["text"] = b["text"]?.DeepClone() };
                if (b["cache_control"] is { } cc)
                {
                    part["cache_control"] = cc.DeepClone();
                }
                parts.Add((JsonNode?)part);
            }
        }
        return new JsonObject { ["role"] = "system", ["content"] = parts };
    }

    private static void AddUser(JsonNode? content, JsonArray output, int index)
    {
        if (content is JsonValue)
        {
            output.Add((JsonNode?)new JsonObject { ["role"] = "user", ["content"] = content.DeepClone() });
            return;
        }
        if (content is not JsonArray blocks)
        {
            throw new TranslationException($"messages.{index}.content: must be a string or an array of content blocks");
        }
        var parts = new JsonArray();
        foreach (var node in blocks)
        {
            if (node is not JsonObject block)
            {
                continue;
            }
            switch (ChatJson.String(block["type"]))
            {
                case "tool_result":
                    // Tool results become tool messages, which OpenAI wants right after the assistant's calls.
                    output.Add((JsonNode?)new JsonObject
                    {
                        ["role"] = "tool",
                        ["tool_call_id"] = block["tool_use_id"]?.DeepClone(),
                        ["content"] = ToolResultText(block["content"]),
                    });
                    break;
                case "text":
                    parts.Add((JsonNode?)WithCache(new JsonObject { ["type"] = "text", ["text"] = block["text"]?.DeepClone() }, block));
                    break;
                case "image":
                    parts.Add((JsonNode?)WithCache(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = SourceUrl(block["source"], index) } }, block));
                    break;
                case "document":
                    if (block["source"] is JsonObject { } src && ChatJson.String(src["type"]) == "base64")
                    {
                        parts.Add((JsonNode?)new JsonObject
                        {
                            ["type"] = "file",
                            ["file"] = new JsonObject { ["file_data"] = SourceUrl(src, index), ["filename"] = ChatJson.String(block["title"]) ?? "document.pdf" },
                        });
                    }
                    else if (block["source"] is JsonObject text && ChatJson.String(text["type"]) == "text")
                    {
                        parts.Add((JsonNode?)new JsonObject { ["type"] = "text", ["text"] = text["data"]?.DeepClone() });
                    }
                    break;
                default:
                    throw new TranslationException($"messages.{index}.content: block type '{ChatJson.String(block["type"])}' cannot be sent to this provider");
            }
        }
        if (parts.Count > 0)
        {
            output.Add((JsonNode?)new JsonObject { ["role"] = "user", ["content"] = parts });
        }
    }

    private static JsonObject WithCache(JsonObject part, JsonObject block)
    {
        if (block["cache_control"] is { } cc)
        {
            part["cache_control"] = cc.DeepClone();
        }
        return part;
    }

    private static string ToolResultText(JsonNode? content) => content switch
    {
        null => "",
        JsonValue v => v.ToString(),
        JsonArray a => string.Concat(a.OfType<JsonObject>().Where(b => ChatJson.String(b["type"]) == "text").Select(b => ChatJson.String(b["text"]))),
        _ => content.ToJsonString(),
    };

    private static string SourceUrl(JsonNode? source, int index)
    {
        if (source is not JsonObject s)
        {
            throw new TranslationException($"messages.{index}: an image needs a source");
        }
        return ChatJson.String(s["type"]) switch
        {
            "base64" => $"data:{ChatJson.String(s["media_type"])};base64,{ChatJson.String(s["data"])}",
            "url" => ChatJson.String(s["url"]) ?? throw new TranslationException($"messages.{index}: source.url is required"),
            var t => throw new TranslationException($"messages.{index}: source type '{t}' cannot be sent to this provider"),
        };
    }

    private static JsonObject Assistant(JsonNode? content, int index)
    {
        var message = new JsonObject { ["role"] = "assistant" };
        if (content is JsonValue)
        {
            message["content"] = content.DeepClone();
            return message;
        }
        if (content is not JsonArray blocks)
        {
            throw new TranslationException($"messages.{index}.content: must be a string or an array of content blocks");
        }
        var text = new System.Text.StringBuilder();
        var calls = new JsonArray();
        var thinking = new JsonArray();
        foreach (var node in blocks)
        {
            if (node is not JsonObject block)
            {
                continue;
            }
            switch (ChatJson.String(block["type"]))
            {
                case "text":
                    text.Append(ChatJson.String(block["text"]));
                    break;
                case "tool_use":
                    calls.Add((JsonNode?)new JsonObject
                    {
                        ["id"] = block["id"]?.DeepClone(),
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = block["name"]?.DeepClone(),
                            ["arguments"] = (block["input"] ?? new JsonObject()).ToJsonString(),
                        },
                    });
                    break;
                case "thinking" or "redacted_thinking":
                    thinking.Add((JsonNode?)block.DeepClone());
                    break;
            }
        }
        message["content"] = text.Length > 0 || calls.Count == 0 ? text.ToString() : null;
        if (calls.Count > 0)
        {
            message["tool_calls"] = calls;
        }
        if (thinking.Count > 0)
        {
            message["thinking_blocks"] = thinking;
        }
        return message;
    }

    private static JsonArray Tools(JsonArray tools)
    {
        var output = new JsonArray();
        foreach (var node in tools)
        {
            if (node is not JsonObject tool)
            {
                continue;
            }
            if (tool["type"] is JsonValue type && ChatJson.String(type) is { } t && t != "custom")
            {
                throw new TranslationException($"tools: Anthropic server tool '{t}' cannot be sent to this provider");
            }
            var function = new JsonObject
            {
                ["name"] = tool["name"]?.DeepClone(),
                ["parameters"] = (tool["input_schema"] ?? new JsonObject { ["type"] = "object" }).DeepClone(),
            };
            if (tool["description"] is { } description)
            {
                function["description"] = description.DeepClone();
            }
            var chatTool = new JsonObject { ["type"] = "function", ["function"] = function };
            if (tool["cache_control"] is { } cc)
            {
                chatTool["cache_control"] = cc.DeepClone();
            }
            output.Add((JsonNode?)chatTool);
        }
        return output;
    }

    public byte[] FromChat(JsonObject completion, ChatCall call)
    {
        var choice = (completion["choices"] as JsonArray)?.FirstOrDefault() as JsonObject;
        var message = choice?["message"] as JsonObject;
        var content = new JsonArray();
        if (message?["thinking_blocks"] is JsonArray thinking)
        {
            foreach (var block in thinking)
            {
                content.Add((JsonNode?)block?.DeepClone());
            }
        }
        else if (ChatJson.String(message?["reasoning_content"]) is { Length: > 0 } reasoning)
        {
            content.Add((JsonNode?)new JsonObject { ["type"] = "thinking", ["thinking"] = reasoning, ["signature"] = "" });
        }
        if (ChatJson.String(message?["content"]) is { Length: > 0 } text)
        {
            content.Add((JsonNode?)new JsonObject { ["type"] = "text", ["text"] = text });
        }
        if (message?["tool_calls"] is JsonArray calls)
        {
            foreach (var node in calls.OfType<JsonObject>())
            {
                var function = node["function"] as JsonObject;
                content.Add((JsonNode?)new JsonObject
                {
                    ["type"] = "tool_use",
                    ["id"] = node["id"]?.DeepClone(),
                    ["name"] = function?["name"]?.DeepClone(),
                    ["input"] = ParseArguments(ChatJson.String(function?["arguments"])),
                });
            }
        }
        var result = new JsonObject
        {
            ["id"] = MessageId(completion["id"]),
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = completion["model"]?.DeepClone() ?? call.Model,
            ["content"] = content,
            ["stop_reason"] = StopReason(choice),
            ["stop_sequence"] = null,
            ["usage"] = Usage(completion["usage"] as JsonObject),
        };
        return ChatJson.Serialize(result);
    }

    private static string MessageId(JsonNode? id)
    {
        var text = ChatJson.String(id);
        return text is null ? "msg_" + Guid.NewGuid().ToString("N") : text.StartsWith("msg_", StringComparison.Ordinal) ? text : "msg_" + text;
    }

    private static JsonNode ParseArguments(string? arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return new JsonObject();
        }
        try
        {
            return JsonNode.Parse(arguments) ?? new JsonObject();
        }
        catch (JsonException)
        {
            // A model that produced broken JSON: hand it over as a string rather than lose it.
            return new JsonObject { ["_raw_arguments"] = arguments };
        }
    }

    internal static string? StopReason(JsonObject? choice) => ChatJson.String(choice?["finish_reason"]) switch
    {
        null => null,
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => ChatJson.String(choice?["native_finish_reason"]) == "stop_sequence" ? "stop_sequence" : "end_turn",
    };

    /// <summary>
    /// A Message's usage from canonical usage, with every field Anthropic always sends, in its order: input_tokens
    /// (excluding cache reads and writes), the two cache counts, the cache-write split by TTL, output_tokens, service_tier.
    /// </summary>
    /// <remarks>
    /// Providers report cache writes without a TTL, so all of them count as 5-minute writes (Anthropic's default TTL).
    /// </remarks>
    internal static JsonObject Usage(JsonObject? usage)
    {
        var (input, write, read, output) = Tokens(usage);
        return new JsonObject
        {
            ["input_tokens"] = input,
            ["cache_creation_input_tokens"] = write,
            ["cache_read_input_tokens"] = read,
            ["cache_creation"] = new JsonObject { ["ephemeral_5m_input_tokens"] = write, ["ephemeral_1h_input_tokens"] = 0 },
            ["output_tokens"] = output,
            ["service_tier"] = "standard",
        };
    }

    /// <summary>A message_delta event's usage as Anthropic sends it (cumulative counts, no TTL split or tier).</summary>
    internal static JsonObject DeltaUsage(JsonObject? usage)
    {
        var (input, write, read, output) = Tokens(usage);
        return new JsonObject
        {
            ["input_tokens"] = input,
            ["cache_creation_input_tokens"] = write,
            ["cache_read_input_tokens"] = read,
            ["output_tokens"] = output,
        };
    }

    private static (long Input, long Write, long Read, long Output) Tokens(JsonObject? usage)
    {
        var prompt = ChatJson.Long(usage?["prompt_tokens"]);
        var read = usage?["cache_read_input_tokens"] is { } r ? ChatJson.Long(r) : ChatJson.Long((usage?["prompt_tokens_details"] as JsonObject)?["cached_tokens"]);
        var write = ChatJson.Long(usage?["cache_creation_input_tokens"]);
        return (Math.Max(0, prompt - read - write), write, read, ChatJson.Long(usage?["completion_tokens"]));
    }

    public IClientStreamEncoder CreateStreamEncoder(ChatCall call) => new Encoder(call);

    public byte[] ErrorBody(int status, ProviderError error, string provider) => AnthropicErrorBody(status, error.Type, $"{provider} error: {error.Message}");

    /// <summary><c>{"type":"error","error":{"type","message"}}</c> with Anthropic's error type for the status.</summary>
    public static byte[] AnthropicErrorBody(int status, string? providerType, string message)
    {
        var type = providerType is "invalid_request_error" or "authentication_error" or "permission_error" or "not_found_error"
            or "request_too_large" or "rate_limit_error" or "api_error" or "overloaded_error"
            ? providerType
            : status switch
            {
                400 or 422 => "invalid_request_error",
                401 => "authentication_error",
                403 => "permission_error",
                404 => "not_found_error",
                408 => "timeout_error",
                413 => "request_too_large",
                429 => "rate_limit_error",
                529 or 503 => "overloaded_error",
                _ => "api_error",
            };
        return ChatJson.Serialize(new JsonObject
        {
            ["type"] = "error",
            ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
        });
    }

    /// <summary>Canonical chunks → Anthropic's event sequence (message_start, content blocks, message_delta, message_stop).</summary>
    private sealed class Encoder(ChatCall call) : IClientStreamEncoder
    {
        private bool _started;
        private int _blockIndex = -1;
        private string? _blockType; // "text", "thinking", "tool_use"
        private readonly Dictionary<int, int> _toolBlocks = [];
        private JsonObject? _finishChoice;
        private JsonObject? _usage;
        private string? _model;
        private string? _id;

        public void Encode(JsonObject chunk, IBufferWriter<byte> output)
        {
            // Azure OpenAI opens with a chunk of empty id, model and choices (prompt_filter_results only): it starts nothing.
            _model ??= ChatJson.String(chunk["model"]) is { Length: > 0 } model ? model : null;
            _id ??= ChatJson.String(chunk["id"]) is { Length: > 0 } id ? id : null;
            if (chunk["usage"] is JsonObject usage)
            {
                _usage = usage;
            }
            else if (!_started && chunk["choices"] is JsonArray { Count: 0 })
            {
                return;
            }
            Start(output);
            if (chunk["choices"] is not JsonArray { Count: > 0 } choices || choices[0] is not JsonObject choice)
            {
                return;
            }
            if (choice["delta"] is JsonObject delta)
            {
                if (ChatJson.String(delta["reasoning_content"]) is { Length: > 0 } reasoning)
                {
                    Open("thinking", new JsonObject { ["type"] = "thinking", ["thinking"] = "" }, output);
                    Delta(new JsonObject { ["type"] = "thinking_delta", ["thinking"] = reasoning }, output);
                }
                if (delta["thinking_blocks"] is JsonArray blocks)
                {
                    foreach (var block in blocks.OfType<JsonObject>())
                    {
                        if (ChatJson.String(block["type"]) == "redacted_thinking")
                        {
                            Close(output);
                            Open("redacted_thinking", new JsonObject { ["type"] = "redacted_thinking", ["data"] = block["data"]?.DeepClone() }, output);
                            Close(output);
                        }
                        else if (ChatJson.String(block["signature"]) is { } signature)
                        {
                            Open("thinking", new JsonObject { ["type"] = "thinking", ["thinking"] = "" }, output);
                            Delta(new JsonObject { ["type"] = "signature_delta", ["signature"] = signature }, output);
                        }
                    }
                }
                if (ChatJson.String(delta["content"]) is { Length: > 0 } text)
                {
                    Open("text", new JsonObject { ["type"] = "text", ["text"] = "" }, output);
                    Delta(new JsonObject { ["type"] = "text_delta", ["text"] = text }, output);
                }
                if (delta["tool_calls"] is JsonArray calls)
                {
                    foreach (var call in calls.OfType<JsonObject>())
                    {
                        var index = (int)ChatJson.Long(call["index"]);
                        var function = call["function"] as JsonObject;
                        if (!_toolBlocks.TryGetValue(index, out var block) || (ChatJson.String(call["id"]) is not null && _blockType != "tool_use"))
                        {
                            Close(output);
                            _blockIndex++;
                            _blockType = "tool_use";
                            _toolBlocks[index] = _blockIndex;
                            Sse.WriteEvent(output, "content_block_start", new JsonObject
                            {
                                ["type"] = "content_block_start",
                                ["index"] = _blockIndex,
                                ["content_block"] = new JsonObject
                                {
                                    ["type"] = "tool_use",
                                    ["id"] = ChatJson.String(call["id"]) ?? "toolu_" + Guid.NewGuid().ToString("N"),
                                    ["name"] = ChatJson.String(function?["name"]) ?? "",
                                    ["input"] = new JsonObject(),
                                },
                            });
                        }
                        if (ChatJson.String(function?["arguments"]) is { Length: > 0 } arguments)
                        {
                            Sse.WriteEvent(output, "content_block_delta", new JsonObject
                            {
                                ["type"] = "content_block_delta",
                                ["index"] = _toolBlocks[index],
                                ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = arguments },
                            });
                        }
                    }
                }
            }
            if (choice["finish_reason"] is JsonValue)
            {
                _finishChoice = choice;
            }
        }

        private void Start(IBufferWriter<byte> output)
        {
            if (_started)
            {
                return;
            }
            _started = true;
            Sse.WriteEvent(output, "message_start", new JsonObject
            {
                ["type"] = "message_start",
                ["message"] = new JsonObject
                {
                    ["id"] = MessageId(_id),
                    ["type"] = "message",
                    ["role"] = "assistant",
                    ["model"] = _model ?? call.Model,
                    ["content"] = new JsonArray(),
                    ["stop_reason"] = null,
                    ["stop_sequence"] = null,
                    // Translated providers report usage only at the end: message_delta carries the real counts.
                    ["usage"] = Usage(null),
                },
            });
        }

        private void Open(string type, JsonObject block, IBufferWriter<byte> output)
        {
            if (_blockType == type)
            {
                return;
            }
            Close(output);
            _blockIndex++;
            _blockType = type;
            Sse.WriteEvent(output, "content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = _blockIndex, ["content_block"] = block });
        }

        private void Delta(JsonObject delta, IBufferWriter<byte> output) =>
            Sse.WriteEvent(output, "content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = _blockIndex, ["delta"] = delta });

        private void Close(IBufferWriter<byte> output)
        {
            if (_blockType is null)
            {
                return;
            }
            Sse.WriteEvent(output, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = _blockIndex });
            _blockType = null;
        }

        public void Finish(IBufferWriter<byte> output)
        {
            Start(output);
            Close(output);
            Sse.WriteEvent(output, "message_delta", new JsonObject
            {
                ["type"] = "message_delta",
                ["delta"] = new JsonObject { ["stop_reason"] = StopReason(_finishChoice) ?? "end_turn", ["stop_sequence"] = null },
                ["usage"] = DeltaUsage(_usage),
            });
            Sse.WriteEvent(output, "message_stop", new JsonObject { ["type"] = "message_stop" });
        }

        public void Fail(string message, IBufferWriter<byte> output) =>
            Sse.WriteEvent(output, "error", new JsonObject
            {
                ["type"] = "error",
                ["error"] = new JsonObject { ["type"] = "api_error", ["message"] = message },
            });
    }
}
