using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Bedrock;

/// <summary>Canonical (OpenAI) chat request → Bedrock Converse request body.</summary>
public static class BedrockRequest
{
    /// <summary>The tool a json_schema response_format becomes; its input is the answer.</summary>
    public const string JsonTool = "json_response";

    public static bool UsesJsonTool(JsonObject body) =>
        body["response_format"] is JsonObject rf && ChatJson.String(rf["type"]) == "json_schema";

    public static JsonObject Build(JsonObject body, string model)
    {
        var converse = new JsonObject();
        var system = new JsonArray();
        var messages = new JsonArray();
        var hasToolBlocks = false;
        if (body["messages"] is not JsonArray input || input.Count == 0)
        {
            throw new TranslationException("messages is required and must not be empty");
        }
        foreach (var node in input)
        {
            if (node is not JsonObject msg)
            {
                throw new TranslationException("each message must be an object");
            }
            var role = ChatJson.String(msg["role"]);
            switch (role)
            {
                case "system" or "developer":
                    AddContent(system, msg["content"], msg, allowImages: false);
                    break;
                case "user":
                    Append(messages, "user", UserBlocks(msg));
                    break;
                case "assistant":
                    var blocks = AssistantBlocks(msg);
                    hasToolBlocks |= blocks.Any(b => b is JsonObject o && o.ContainsKey("toolUse"));
                    if (blocks.Count > 0)
                    {
                        Append(messages, "assistant", blocks);
                    }
                    break;
                case "tool":
                    hasToolBlocks = true;
                    Append(messages, "user", [ToolResult(msg)]);
                    break;
                default:
                    throw new TranslationException($"Bedrock does not take messages with role '{role}'");
            }
        }
        converse["messages"] = messages;
        if (system.Count > 0)
        {
            converse["system"] = system;
        }

        var inference = new JsonObject();
        if ((body["max_completion_tokens"] ?? body["max_tokens"]) is JsonValue max)
        {
            inference["maxTokens"] = max.DeepClone();
        }
        if (body["temperature"] is JsonValue temperature)
        {
            inference["temperature"] = temperature.DeepClone();
        }
        if (body["top_p"] is JsonValue topP)
        {
            inference["topP"] = topP.DeepClone();
        }
        switch (body["stop"])
        {
            case JsonValue stop when ChatJson.String(stop) is { } s:
                inference["stopSequences"] = new JsonArray(s);
                break;
            case JsonArray stops when stops.Count > 0:
                inference["stopSequences"] = stops.DeepClone();
                break;
        }
        if (inference.Count > 0)
        {
            converse["inferenceConfig"] = inference;
        }

        var toolConfig = ToolConfig(body, hasToolBlocks);
        if (toolConfig is not null)
        {
            converse["toolConfig"] = toolConfig;
        }

        var extra = new JsonObject();
        var anthropic = model.Contains("anthropic", StringComparison.OrdinalIgnoreCase);
        if (body["thinking"] is JsonObject thinking && anthropic)
        {
            extra["thinking"] = thinking.DeepClone();
        }
        if (body["top_k"] is JsonValue topK)
        {
            extra["top_k"] = topK.DeepClone();
        }
        if (extra.Count > 0)
        {
            converse["additionalModelRequestFields"] = extra;
        }
        return converse;
    }

    private static void Append(JsonArray messages, string role, List<JsonNode> blocks)
    {
        if (messages.Count > 0 && messages[^1] is JsonObject last && ChatJson.String(last["role"]) == role)
        {
            var content = (JsonArray)last["content"]!;
            foreach (var b in blocks)
            {
                content.Add(b);
            }
            return;
        }
        var array = new JsonArray();
        foreach (var b in blocks)
        {
            array.Add(b);
        }
        messages.Add((JsonNode?)new JsonObject { ["role"] = role, ["content"] = array });
    }

    private static List<JsonNode> UserBlocks(JsonObject msg)
    {
        var blocks = new JsonArray();
        AddContent(blocks, msg["content"], msg, allowImages: true);
        var list = blocks.Select(b => b!.DeepClone()).ToList();
        if (list.Count == 0)
        {
            throw new TranslationException("a user message has no content; Bedrock needs at least one block");
        }
        return list;
    }

    /// <summary>Text (and images) of a message into Converse blocks, with a cachePoint after any block marked cache_control.</summary>
    private static void AddContent(JsonArray target, JsonNode? content, JsonObject msg, bool allowImages)
    {
        switch (content)
        {
            case JsonValue v when ChatJson.String(v) is { } text:
                if (text.Length > 0)
                {
                    target.Add((JsonNode?)new JsonObject { ["text"] = text });
                }
                break;
            case JsonArray parts:
                foreach (var p in parts)
                {
                    if (p is not JsonObject part)
                    {
                        continue;
                    }
                    switch (ChatJson.String(part["type"]))
                    {
                        case "text":
                            if (ChatJson.String(part["text"]) is { Length: > 0 } t)
                            {
                                target.Add((JsonNode?)new JsonObject { ["text"] = t });
                            }
                            break;
                        case "image_url" when allowImages:
                            target.Add((JsonNode?)Image(part));
                            break;
                        default:
                            throw new TranslationException($"Bedrock cannot take a content part of type '{ChatJson.String(part["type"])}' here");
                    }
                    if (part["cache_control"] is JsonObject)
                    {
                        target.Add((JsonNode?)CachePoint());
                    }
                }
                break;
            case null:
                break;
            default:
                throw new TranslationException("message content must be a string or an array of parts");
        }
        if (msg["cache_control"] is JsonObject && target.Count > 0 && !(target[^1] is JsonObject o && o.ContainsKey("cachePoint")))
        {
            target.Add((JsonNode?)CachePoint());
        }
    }

    private static JsonObject CachePoint() => new() { ["cachePoint"] = new JsonObject { ["type"] = "default" } };

    private static JsonObject Image(JsonObject part)
    {
        var url = part["image_url"] is JsonObject o ? ChatJson.String(o["url"]) : ChatJson.String(part["image_url"]);
        if (url is null)
        {
            throw new TranslationException("image_url.url is required");
        }
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            throw new TranslationException("Bedrock needs inline images: send the image as a base64 data URI (data:image/png;base64,…), not a URL");
        }
        var comma = url.IndexOf(',');
        var meta = comma > 0 ? url[5..comma] : "";
        if (comma < 0 || !meta.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
        {
            throw new TranslationException("an image data URI must be base64-encoded");
        }
        var mime = meta[..^7].ToLowerInvariant();
        var format = mime switch
        {
            "image/png" => "png",
            "image/jpeg" or "image/jpg" => "jpeg",
            "image/gif" => "gif",
            "image/webp" => "webp",
            _ => throw new TranslationException($"Bedrock takes png, jpeg, gif and webp images, not {mime}"),
        };
        return new JsonObject
        {
            ["image"] = new JsonObject { ["format"] = format, ["source"] = new JsonObject { ["bytes"] = url[(comma + 1)..] } },
        };
    }

    private static List<JsonNode> AssistantBlocks(JsonObject msg)
    {
        var blocks = new List<JsonNode>();
        if (msg["content_blocks"] is JsonArray contentBlocks)
        {
            // The turn as a non-strict answer gave it (Portkey's content_blocks): thinking with its signature, redacted
            // thinking and text, in order, replace content and thinking_blocks. Tool calls still come from tool_calls.
            foreach (var b in contentBlocks.OfType<JsonObject>())
            {
                switch (ChatJson.String(b["type"]))
                {
                    case "thinking" or "redacted_thinking":
                        blocks.Add(Reasoning(b));
                        break;
                    case "text" when ChatJson.String(b["text"]) is { Length: > 0 } text:
                        blocks.Add(new JsonObject { ["text"] = text });
                        break;
                }
            }
        }
        else
        {
            if (msg["thinking_blocks"] is JsonArray thinking)
            {
                blocks.AddRange(thinking.OfType<JsonObject>().Select(Reasoning));
            }
            var content = new JsonArray();
            AddContent(content, msg["content"], msg, allowImages: false);
            blocks.AddRange(content.Select(b => b!.DeepClone()));
        }
        if (msg["tool_calls"] is JsonArray calls)
        {
            foreach (var c in calls.OfType<JsonObject>())
            {
                var fn = c["function"] as JsonObject;
                var args = ChatJson.String(fn?["arguments"]);
                JsonNode? input;
                try
                {
                    input = string.IsNullOrWhiteSpace(args) ? new JsonObject() : JsonNode.Parse(args);
                }
                catch (JsonException)
                {
                    throw new TranslationException($"tool call {ChatJson.String(c["id"])} has arguments that are not JSON; Bedrock needs a JSON object");
                }
                blocks.Add(new JsonObject
                {
                    ["toolUse"] = new JsonObject
                    {
                        ["toolUseId"] = ChatJson.String(c["id"]),
                        ["name"] = ChatJson.String(fn?["name"]),
                        ["input"] = input ?? new JsonObject(),
                    },
                });
            }
        }
        return blocks;
    }

    /// <summary>A canonical thinking or redacted_thinking block as a Converse reasoningContent block.</summary>
    private static JsonNode Reasoning(JsonObject block)
    {
        if (ChatJson.String(block["type"]) == "redacted_thinking")
        {
            return new JsonObject { ["reasoningContent"] = new JsonObject { ["redactedContent"] = ChatJson.String(block["data"]) } };
        }
        var text = new JsonObject { ["text"] = ChatJson.String(block["thinking"]) ?? "" };
        if (ChatJson.String(block["signature"]) is { } sig)
        {
            text["signature"] = sig;
        }
        return new JsonObject { ["reasoningContent"] = new JsonObject { ["reasoningText"] = text } };
    }

    private static JsonObject ToolResult(JsonObject msg)
    {
        var content = new JsonArray();
        switch (msg["content"])
        {
            case JsonValue v when ChatJson.String(v) is { } text:
                content.Add((JsonNode?)new JsonObject { ["text"] = text.Length > 0 ? text : " " });
                break;
            case JsonArray parts:
                foreach (var p in parts.OfType<JsonObject>())
                {
                    if (ChatJson.String(p["text"]) is { } t)
                    {
                        content.Add((JsonNode?)new JsonObject { ["text"] = t });
                    }
                }
                break;
        }
        if (content.Count == 0)
        {
            content.Add((JsonNode?)new JsonObject { ["text"] = " " });
        }
        return new JsonObject
        {
            ["toolResult"] = new JsonObject { ["toolUseId"] = ChatJson.String(msg["tool_call_id"]), ["content"] = content },
        };
    }

    /// <summary>tools → toolConfig. tool_choice none drops the tools unless the conversation already holds tool blocks (Bedrock then requires toolConfig).</summary>
    private static JsonObject? ToolConfig(JsonObject body, bool hasToolBlocks)
    {
        var tools = new JsonArray();
        if (body["tools"] is JsonArray input)
        {
            foreach (var t in input.OfType<JsonObject>())
            {
                if (ChatJson.String(t["type"]) != "function" || t["function"] is not JsonObject fn)
                {
                    throw new TranslationException("Bedrock takes only function tools");
                }
                var spec = new JsonObject { ["name"] = ChatJson.String(fn["name"]) };
                if (ChatJson.String(fn["description"]) is { Length: > 0 } d)
                {
                    spec["description"] = d;
                }
                spec["inputSchema"] = new JsonObject
                {
                    ["json"] = fn["parameters"]?.DeepClone() ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() },
                };
                tools.Add((JsonNode?)new JsonObject { ["toolSpec"] = spec });
            }
        }
        JsonObject? choice = null;
        var none = false;
        switch (body["tool_choice"])
        {
            case JsonValue v when ChatJson.String(v) is { } s:
                choice = s switch
                {
                    "auto" => new JsonObject { ["auto"] = new JsonObject() },
                    "required" => new JsonObject { ["any"] = new JsonObject() },
                    "none" => null,
                    _ => throw new TranslationException($"tool_choice '{s}' is not one of auto, required, none"),
                };
                none = s == "none";
                break;
            case JsonObject o when ((o["function"] as JsonObject)?["name"]) is JsonValue name:
                choice = new JsonObject { ["tool"] = new JsonObject { ["name"] = name.ToString() } };
                break;
        }
        if (UsesJsonTool(body))
        {
            var schema = ((JsonObject)body["response_format"]!)["json_schema"] as JsonObject;
            var schemaName = ChatJson.String(schema?["name"]);
            var spec = new JsonObject
            {
                ["name"] = JsonTool,
                ["description"] = "Answer with a JSON object that follows this schema" + (schemaName is null ? "" : $" ({schemaName})"),
                ["inputSchema"] = new JsonObject { ["json"] = schema?["schema"]?.DeepClone() ?? new JsonObject { ["type"] = "object" } },
            };
            tools.Add((JsonNode?)new JsonObject { ["toolSpec"] = spec });
            choice = new JsonObject { ["tool"] = new JsonObject { ["name"] = JsonTool } };
            none = false;
        }
        if (tools.Count == 0 || (none && !hasToolBlocks))
        {
            return null;
        }
        var config = new JsonObject { ["tools"] = tools };
        if (choice is not null)
        {
            config["toolChoice"] = choice;
        }
        return config;
    }
}
