using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Usage;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Anthropic;

/// <summary>
/// Pure translation between canonical chat (OpenAI chat completions + SEAM.md extensions) and Anthropic's Messages API.
/// No URLs, auth or headers: the Anthropic adapter and the Vertex adapter (Claude on Vertex) both call it.
/// </summary>
/// <remarks>
/// Choices made where OpenAI has no direct counterpart (documented in docs/configuration.md, "Anthropic"):
/// <list type="bullet">
/// <item><c>max_tokens</c> defaults to <see cref="DefaultMaxTokens"/> (Anthropic requires it), raised to the thinking
/// budget + <see cref="DefaultMaxTokens"/> when a thinking budget would not fit.</item>
/// <item><c>reasoning_effort</c> low/medium/high → thinking budgets <see cref="LowBudget"/>/<see cref="MediumBudget"/>/<see cref="HighBudget"/>
/// (<c>minimal</c> → low, <c>none</c> → no thinking); an explicit <c>thinking</c> wins.</item>
/// <item>With thinking enabled, <c>temperature</c> and <c>top_k</c> are not sent (Anthropic rejects them with thinking).</item>
/// <item><c>response_format: json_schema</c> → a forced tool named <see cref="JsonToolName"/>; its input comes back as
/// <c>message.content</c> with <c>finish_reason: stop</c>. <c>json_object</c> → a system instruction.</item>
/// <item>OpenAI parameters Anthropic lacks (<c>n</c>, penalties, <c>logprobs</c>, <c>seed</c>, …) are dropped.</item>
/// </list>
/// </remarks>
public static class AnthropicMessagesCodec
{
    public const int DefaultMaxTokens = 4096;
    public const int LowBudget = 1024;
    public const int MediumBudget = 4096;
    public const int HighBudget = 16384;
    public const string JsonToolName = "json_response";
    public const string JsonObjectInstruction = "Respond only with a single valid JSON object, with no text before or after it.";

    /// <summary>
    /// Builds a Messages request body from a canonical chat request. <paramref name="includeModel"/> is false for
    /// Vertex, whose URL names the model; <paramref name="extra"/> fields (e.g. Vertex's <c>anthropic_version</c>) are added first.
    /// </summary>
    public static JsonObject ToMessagesRequest(JsonObject chat, bool includeModel = true, IEnumerable<KeyValuePair<string, JsonNode?>>? extra = null)
    {
        var body = new JsonObject();
        foreach (var (name, v) in extra ?? [])
        {
            body[name] = v?.DeepClone();
        }
        if (includeModel)
        {
            body["model"] = ChatJson.String(chat["model"]) ?? throw new TranslationException("model is required");
        }

        var system = new JsonArray();
        var turns = new List<(string Role, JsonArray Blocks)>();
        if (chat["messages"] is not JsonArray messages || messages.Count == 0)
        {
            throw new TranslationException("messages must be a non-empty array");
        }
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not JsonObject message)
            {
                throw new TranslationException($"messages[{i}] must be an object");
            }
            var role = ChatJson.String(message["role"]);
            switch (role)
            {
                case "system" or "developer":
                    foreach (var block in TextBlocks(message["content"], i))
                    {
                        system.Add(block);
                    }
                    ApplyMessageCache(system, message);
                    break;
                case "user":
                    Append(turns, "user", UserBlocks(message, i));
                    break;
                case "assistant":
                    var assistant = AssistantBlocks(message, i);
                    if (assistant.Count > 0)
                    {
                        Append(turns, "assistant", assistant);
                    }
                    break;
                case "tool" or "function":
                    Append(turns, "user", new JsonArray(ToolResult(message, i)));
                    break;
                default:
                    throw new TranslationException($"messages[{i}].role '{role}' is not supported by Anthropic");
            }
        }

        var responseFormat = chat["response_format"] as JsonObject;
        var formatType = ChatJson.String(responseFormat?["type"]);
        if (formatType == "json_object")
        {
            system.Add((JsonNode)new JsonObject { ["type"] = "text", ["text"] = JsonObjectInstruction });
        }
        if (system.Count > 0)
        {
            body["system"] = system;
        }
        var turnArray = new JsonArray();
        foreach (var (role, blocks) in turns)
        {
            turnArray.Add((JsonNode)new JsonObject { ["role"] = role, ["content"] = blocks });
        }
        body["messages"] = turnArray;

        var thinking = Thinking(chat);
        var budget = thinking?["budget_tokens"] is JsonValue b && b.TryGetValue<int>(out var bt) ? bt : 0;
        var maxTokens = Int(chat["max_completion_tokens"]) ?? Int(chat["max_tokens"]);
        body["max_tokens"] = maxTokens ?? (budget >= DefaultMaxTokens ? budget + DefaultMaxTokens : DefaultMaxTokens);
        var thinkingOn = thinking is not null && ChatJson.String(thinking["type"]) != "disabled";

        if (chat["stop"] is JsonValue stopOne && stopOne.TryGetValue<string>(out var stopText))
        {
            body["stop_sequences"] = new JsonArray(stopText);
        }
        else if (chat["stop"] is JsonArray stops && stops.Count > 0)
        {
            body["stop_sequences"] = stops.DeepClone();
        }
        if (chat["stream"] is JsonValue s && s.TryGetValue<bool>(out var stream) && stream)
        {
            body["stream"] = true;
        }
        if (!thinkingOn && chat["temperature"] is JsonValue t && t.TryGetValue<double>(out var temperature))
        {
            body["temperature"] = Math.Clamp(temperature, 0, 1);
        }
        if (chat["top_p"] is JsonValue p && p.TryGetValue<double>(out var topP))
        {
            body["top_p"] = topP;
        }
        if (!thinkingOn && chat["top_k"] is JsonValue k && k.TryGetValue<int>(out var topK))
        {
            body["top_k"] = topK;
        }
        if (ChatJson.String(chat["user"]) is { Length: > 0 } user)
        {
            body["metadata"] = new JsonObject { ["user_id"] = user };
        }
        if (thinking is not null)
        {
            body["thinking"] = thinking;
        }

        var tools = Tools(chat["tools"]);
        JsonObject? toolChoice = ToolChoice(chat["tool_choice"]);
        if (formatType == "json_schema")
        {
            var schema = (responseFormat!["json_schema"] as JsonObject)?["schema"] as JsonObject
                ?? throw new TranslationException("response_format.json_schema.schema must be an object");
            tools ??= [];
            tools.Add((JsonNode)new JsonObject
            {
                ["name"] = JsonToolName,
                ["description"] = "Give the answer as JSON matching this schema.",
                ["input_schema"] = schema.DeepClone(),
            });
            toolChoice = new JsonObject { ["type"] = "tool", ["name"] = JsonToolName };
        }
        if (tools is { Count: > 0 })
        {
            body["tools"] = tools;
            if (chat["parallel_tool_calls"] is JsonValue ptc && ptc.TryGetValue<bool>(out var parallel) && !parallel)
            {
                toolChoice ??= new JsonObject { ["type"] = "auto" };
                if (ChatJson.String(toolChoice["type"]) != "none")
                {
                    toolChoice["disable_parallel_tool_use"] = true;
                }
            }
            if (toolChoice is not null)
            {
                body["tool_choice"] = toolChoice;
            }
        }
        else if (toolChoice is not null && ChatJson.String(toolChoice["type"]) == "tool")
        {
            throw new TranslationException($"tool_choice names tool '{ChatJson.String(toolChoice["name"])}' but no tools were given");
        }
        return body;
    }

    /// <summary>True when the chat request asked for a JSON-schema answer, which the codec sends as a forced tool.</summary>
    public static bool WantsJsonTool(JsonObject chat) =>
        chat["response_format"] is JsonObject f && ChatJson.String(f["type"]) == "json_schema";

    private static void Append(List<(string Role, JsonArray Blocks)> turns, string role, JsonArray blocks)
    {
        if (turns.Count > 0 && turns[^1].Role == role)
        {
            var target = turns[^1].Blocks;
            var items = blocks.ToList();
            blocks.Clear();
            // tool_result blocks must lead a user turn: they go after the turn's own results, before its other content.
            var insertAt = target.TakeWhile(IsToolResult).Count();
            foreach (var item in items)
            {
                if (IsToolResult(item))
                {
                    target.Insert(insertAt++, item);
                }
                else
                {
                    target.Add(item);
                }
            }
            return;
        }
        turns.Add((role, blocks));

        static bool IsToolResult(JsonNode? b) => ChatJson.String(b?["type"]) == "tool_result";
    }

    private static JsonObject? Thinking(JsonObject chat)
    {
        if (chat["thinking"] is JsonObject thinking)
        {
            return (JsonObject)thinking.DeepClone();
        }
        var budget = ChatJson.String(chat["reasoning_effort"]) switch
        {
            "minimal" or "low" => LowBudget,
            "medium" => MediumBudget,
            "high" => HighBudget,
            _ => 0,
        };
        return budget == 0 ? null : new JsonObject { ["type"] = "enabled", ["budget_tokens"] = budget };
    }

    private static int? Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? (int)d : null;

    private static JsonObject? CacheControl(JsonNode? node) => node is JsonObject o ? (JsonObject)o.DeepClone() : null;

    private static void ApplyMessageCache(JsonArray blocks, JsonObject message)
    {
        if (CacheControl(message["cache_control"]) is { } cache && blocks.Count > 0 && blocks[^1] is JsonObject last)
        {
            last["cache_control"] = cache;
        }
    }

    private static List<JsonNode> TextBlocks(JsonNode? content, int index)
    {
        var blocks = new List<JsonNode>();
        if (content is JsonValue v && v.TryGetValue<string>(out var text))
        {
            if (text.Length > 0)
            {
                blocks.Add((JsonNode)new JsonObject { ["type"] = "text", ["text"] = text });
            }
        }
        else if (content is JsonArray parts)
        {
            foreach (var part in parts)
            {
                if (part is JsonObject o && ChatJson.String(o["type"]) == "text")
                {
                    var block = new JsonObject { ["type"] = "text", ["text"] = ChatJson.String(o["text"]) ?? "" };
                    if (CacheControl(o["cache_control"]) is { } cache)
                    {
                        block["cache_control"] = cache;
                    }
                    blocks.Add((JsonNode)block);
                }
                else
                {
                    throw new TranslationException($"messages[{index}] may only hold text parts here");
                }
            }
        }
        return blocks;
    }

    private static JsonArray UserBlocks(JsonObject message, int index)
    {
        var blocks = new JsonArray();
        var content = message["content"];
        if (content is JsonArray parts)
        {
            for (var j = 0; j < parts.Count; j++)
            {
                if (parts[j] is not JsonObject part)
                {
                    throw new TranslationException($"messages[{index}].content[{j}] must be an object");
                }
                var block = ChatJson.String(part["type"]) switch
                {
                    "text" => new JsonObject { ["type"] = "text", ["text"] = ChatJson.String(part["text"]) ?? "" },
                    "image_url" => ImageBlock(part["image_url"], index, j),
                    "file" => FileBlock(part["file"] as JsonObject, index, j),
                    var other => throw new TranslationException($"messages[{index}].content[{j}] of type '{other}' is not supported by Anthropic"),
                };
                if (CacheControl(part["cache_control"]) is { } cache)
                {
                    block["cache_control"] = cache;
                }
                blocks.Add((JsonNode)block);
            }
        }
        else
        {
            foreach (var block in TextBlocks(content, index))
            {
                blocks.Add(block);
            }
        }
        ApplyMessageCache(blocks, message);
        return blocks;
    }

    private static JsonObject ImageBlock(JsonNode? imageUrl, int index, int part)
    {
        var url = imageUrl is JsonObject o ? ChatJson.String(o["url"]) : ChatJson.String(imageUrl);
        if (string.IsNullOrEmpty(url))
        {
            throw new TranslationException($"messages[{index}].content[{part}].image_url.url is required");
        }
        if (TryDataUri(url, out var mediaType, out var data))
        {
            return new JsonObject
            {
                ["type"] = mediaType == "application/pdf" ? "document" : "image",
                ["source"] = new JsonObject { ["type"] = "base64", ["media_type"] = mediaType, ["data"] = data },
            };
        }
        if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            var isPdf = new Uri(url).AbsolutePath.EndsWith(".pdf", StringComparison.OrdinalIgnoreCase);
            return new JsonObject
            {
                ["type"] = isPdf ? "document" : "image",
                ["source"] = new JsonObject { ["type"] = "url", ["url"] = url },
            };
        }
        throw new TranslationException($"messages[{index}].content[{part}].image_url.url must be an http(s) URL or a base64 data URI");
    }

    private static JsonObject FileBlock(JsonObject? file, int index, int part)
    {
        var data = ChatJson.String(file?["file_data"]);
        if (data is null || !TryDataUri(data, out var mediaType, out var payload))
        {
            throw new TranslationException($"messages[{index}].content[{part}].file needs file_data as a base64 data URI (file_id is not supported by Anthropic)");
        }
        var block = new JsonObject
        {
            ["type"] = mediaType.StartsWith("image/", StringComparison.Ordinal) ? "image" : "document",
            ["source"] = mediaType == "text/plain"
                ? new JsonObject { ["type"] = "text", ["media_type"] = "text/plain", ["data"] = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(payload)) }
                : new JsonObject { ["type"] = "base64", ["media_type"] = mediaType, ["data"] = payload },
        };
        if (ChatJson.String(file?["filename"]) is { Length: > 0 } name && ChatJson.String(block["type"]) == "document")
        {
            block["title"] = name;
        }
        return block;
    }

    /// <summary>Splits <c>data:&lt;media&gt;;base64,&lt;data&gt;</c>.</summary>
    public static bool TryDataUri(string uri, out string mediaType, out string data)
    {
        mediaType = data = "";
        if (!uri.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var comma = uri.IndexOf(',');
        var marker = uri.IndexOf(";base64", StringComparison.OrdinalIgnoreCase);
        if (comma < 0 || marker < 0 || marker > comma)
        {
            return false;
        }
        mediaType = uri[5..marker].ToLowerInvariant();
        data = uri[(comma + 1)..];
        return mediaType.Length > 0;
    }

    private static JsonArray AssistantBlocks(JsonObject message, int index)
    {
        var blocks = new JsonArray();
        if (message["content_blocks"] is JsonArray contentBlocks)
        {
            // An assistant turn sent back as the non-strict answer gave it: Anthropic's own blocks (thinking with its
            // signature, redacted thinking, text …) replace content, as in Portkey. Tool calls still come from tool_calls.
            for (var j = 0; j < contentBlocks.Count; j++)
            {
                if (contentBlocks[j] is not JsonObject block || ChatJson.String(block["type"]) is not { } type)
                {
                    throw new TranslationException($"messages[{index}].content_blocks[{j}] must be an object with a type");
                }
                // Anthropic refuses empty text blocks, which a stream's content_block_start leaves behind.
                if (type != "tool_use" && !(type == "text" && string.IsNullOrEmpty(ChatJson.String(block["text"]))))
                {
                    blocks.Add(block.DeepClone());
                }
            }
        }
        else
        {
            if (message["thinking_blocks"] is JsonArray thinking)
            {
                foreach (var t in thinking)
                {
                    if (t is JsonObject o && ChatJson.String(o["type"]) is "thinking" or "redacted_thinking")
                    {
                        blocks.Add(o.DeepClone());
                    }
                }
            }
            foreach (var block in TextBlocks(message["content"] is JsonArray parts
                         ? new JsonArray(parts.Where(p => ChatJson.String(p?["type"]) == "text").Select(p => p!.DeepClone()).ToArray())
                         : message["content"], index))
            {
                blocks.Add(block);
            }
        }
        if (message["tool_calls"] is JsonArray calls)
        {
            for (var j = 0; j < calls.Count; j++)
            {
                var call = calls[j] as JsonObject;
                var function = call?["function"] as JsonObject;
                var name = ChatJson.String(function?["name"]) ?? throw new TranslationException($"messages[{index}].tool_calls[{j}].function.name is required");
                var arguments = ChatJson.String(function!["arguments"]);
                JsonNode? input;
                try
                {
                    input = string.IsNullOrWhiteSpace(arguments) ? new JsonObject() : JsonNode.Parse(arguments);
                }
                catch (JsonException)
                {
                    throw new TranslationException($"messages[{index}].tool_calls[{j}] ('{name}'): function.arguments is not valid JSON");
                }
                if (input is not JsonObject)
                {
                    throw new TranslationException($"messages[{index}].tool_calls[{j}] ('{name}'): function.arguments must be a JSON object");
                }
                blocks.Add((JsonNode)new JsonObject
                {
                    ["type"] = "tool_use",
                    ["id"] = ChatJson.String(call!["id"]) ?? $"toolu_{index}_{j}",
                    ["name"] = name,
                    ["input"] = input,
                });
            }
        }
        ApplyMessageCache(blocks, message);
        return blocks;
    }

    private static JsonObject ToolResult(JsonObject message, int index)
    {
        var id = ChatJson.String(message["tool_call_id"]) ?? throw new TranslationException($"messages[{index}].tool_call_id is required for a tool message");
        var result = new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = id };
        var content = message["content"];
        if (content is JsonArray)
        {
            result["content"] = new JsonArray([.. TextBlocks(content, index)]);
        }
        else
        {
            result["content"] = ChatJson.String(content) ?? content?.ToJsonString() ?? "";
        }
        if (CacheControl(message["cache_control"]) is { } cache)
        {
            result["cache_control"] = cache;
        }
        return result;
    }

    private static JsonArray? Tools(JsonNode? node)
    {
        if (node is not JsonArray tools || tools.Count == 0)
        {
            return null;
        }
        var result = new JsonArray();
        for (var i = 0; i < tools.Count; i++)
        {
            var tool = tools[i] as JsonObject;
            var function = tool?["function"] as JsonObject;
            if (ChatJson.String(tool?["type"]) != "function" || function is null)
            {
                throw new TranslationException($"tools[{i}] must be a function tool");
            }
            var converted = new JsonObject
            {
                ["name"] = ChatJson.String(function["name"]) ?? throw new TranslationException($"tools[{i}].function.name is required"),
            };
            if (ChatJson.String(function["description"]) is { } description)
            {
                converted["description"] = description;
            }
            converted["input_schema"] = function["parameters"] is JsonObject parameters
                ? parameters.DeepClone()
                : new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
            if (CacheControl(tool!["cache_control"] ?? function["cache_control"]) is { } cache)
            {
                converted["cache_control"] = cache;
            }
            result.Add((JsonNode)converted);
        }
        return result;
    }

    private static JsonObject? ToolChoice(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s switch
        {
            "auto" => new JsonObject { ["type"] = "auto" },
            "required" => new JsonObject { ["type"] = "any" },
            "none" => new JsonObject { ["type"] = "none" },
            _ => throw new TranslationException($"tool_choice '{s}' is not supported"),
        },
        JsonObject o when (o["function"] as JsonObject)?["name"] is JsonValue name =>
            new JsonObject { ["type"] = "tool", ["name"] = name.ToString() },
        null => null,
        _ => throw new TranslationException("tool_choice must be auto, required, none or a named function"),
    };

    /// <summary>Anthropic's <c>stop_reason</c> → OpenAI's <c>finish_reason</c> (SEAM.md).</summary>
    public static string FinishReason(string? stopReason) => stopReason switch
    {
        "tool_use" => "tool_calls",
        "max_tokens" or "model_context_window_exceeded" => "length",
        "refusal" => "content_filter",
        _ => "stop",
    };

    /// <summary>A Messages response → <c>chat.completion</c>.</summary>
    /// <param name="provider">The slug error messages name (<c>anthropic</c>, <c>vertex-ai</c>).</param>
    /// <param name="strict">Strict OpenAI compliance; off adds <c>message.content_blocks</c>, Anthropic's own blocks bar tool_use (Portkey §9.4).</param>
    public static JsonObject ToChatCompletion(ReadOnlySpan<byte> body, JsonObject chat, long created, string provider = "anthropic", bool strict = true)
    {
        var message = ChatJson.ParseAnswer(body, provider);
        if (ChatJson.String(message["type"]) == "error")
        {
            throw new TranslationException("The upstream answered with an error: " + (message["error"]?["message"]?.ToString() ?? message.ToJsonString()), 502);
        }
        if (message["content"] is not JsonArray content)
        {
            throw ChatJson.InvalidAnswer(provider, "the message has no content array", body);
        }
        var jsonTool = WantsJsonTool(chat);
        var text = new System.Text.StringBuilder();
        var reasoning = new System.Text.StringBuilder();
        var thinkingBlocks = new JsonArray();
        var toolCalls = new JsonArray();
        var contentBlocks = strict ? null : new JsonArray();
        var hasText = false;
        var answeredByJsonTool = false;
        foreach (var block in content)
        {
            var type = ChatJson.String(block?["type"]);
            if (contentBlocks is not null && block is JsonObject && type != "tool_use")
            {
                contentBlocks.Add(block.DeepClone());
            }
            switch (type)
            {
                case "text":
                    text.Append(ChatJson.String(block!["text"]));
                    hasText = true;
                    break;
                case "thinking":
                    reasoning.Append(ChatJson.String(block!["thinking"]));
                    thinkingBlocks.Add((JsonNode)new JsonObject
                    {
                        ["type"] = "thinking",
                        ["thinking"] = ChatJson.String(block["thinking"]),
                        ["signature"] = ChatJson.String(block["signature"]),
                    });
                    break;
                case "redacted_thinking":
                    thinkingBlocks.Add((JsonNode)new JsonObject { ["type"] = "redacted_thinking", ["data"] = ChatJson.String(block!["data"]) });
                    break;
                case "tool_use" when jsonTool && ChatJson.String(block!["name"]) == JsonToolName:
                    text.Clear();
                    text.Append((block["input"] ?? new JsonObject()).ToJsonString());
                    hasText = true;
                    answeredByJsonTool = true;
                    break;
                case "tool_use":
                    toolCalls.Add((JsonNode)new JsonObject
                    {
                        ["id"] = ChatJson.String(block!["id"]),
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = ChatJson.String(block["name"]),
                            ["arguments"] = (block["input"] ?? new JsonObject()).ToJsonString(),
                        },
                    });
                    break;
            }
        }
        var native = ChatJson.String(message["stop_reason"]);
        var finish = answeredByJsonTool && toolCalls.Count == 0 ? "stop" : FinishReason(native);
        var assistant = new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = hasText || toolCalls.Count == 0 ? text.ToString() : null,
        };
        if (toolCalls.Count > 0)
        {
            assistant["tool_calls"] = toolCalls;
        }
        if (thinkingBlocks.Count > 0)
        {
            assistant["reasoning_content"] = reasoning.ToString();
            assistant["thinking_blocks"] = thinkingBlocks;
        }
        if (contentBlocks is not null)
        {
            assistant["content_blocks"] = contentBlocks;
        }
        var completion = new JsonObject
        {
            ["id"] = ChatJson.String(message["id"]) ?? "msg_unknown",
            ["object"] = "chat.completion",
            ["created"] = created,
            ["model"] = ChatJson.String(message["model"]) ?? ChatJson.String(chat["model"]),
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = assistant,
                ["logprobs"] = null,
                ["finish_reason"] = finish,
                ["native_finish_reason"] = native,
            }),
        };
        if (message["usage"] is JsonObject usage)
        {
            completion["usage"] = Usage(usage, ChatJson.Long(usage["output_tokens"]));
        }
        return completion;
    }

    /// <summary>Anthropic usage → OpenAI usage (SEAM.md: prompt = uncached + cache read + cache write).</summary>
    public static JsonObject Usage(JsonObject usage, long outputTokens) => CanonicalUsage.FromCacheSplit(
        ChatJson.Long(usage["input_tokens"]), outputTokens, ChatJson.Long(usage["cache_read_input_tokens"]), ChatJson.Long(usage["cache_creation_input_tokens"]),
        usage.ContainsKey("cache_read_input_tokens") || usage.ContainsKey("cache_creation_input_tokens"));

    /// <summary>Reads <c>{"type":"error","error":{"type","message"}}</c> (and anything else without throwing).</summary>
    public static ProviderError ReadError(int status, ReadOnlySpan<byte> body)
    {
        try
        {
            if (JsonNode.Parse(body) is JsonObject root && root["error"] is JsonObject error)
            {
                return new ProviderError(
                    ChatJson.String(error["message"]) ?? $"HTTP {status}",
                    ChatJson.String(error["type"]),
                    Param: null);
            }
        }
        catch (JsonException)
        {
        }
        return OpenAiErrors.Read(status, body);
    }

    internal static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
