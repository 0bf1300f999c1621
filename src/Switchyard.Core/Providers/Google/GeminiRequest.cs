using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Google;

/// <summary>Canonical chat request → Gemini <c>GenerateContentRequest</c> (shared by Google AI Studio and Vertex AI).</summary>
public static class GeminiRequest
{
    public static JsonObject Build(JsonObject chat)
    {
        var request = new JsonObject();
        var messages = chat["messages"] as JsonArray ?? throw new TranslationException("'messages' is required and must be an array");
        var toolNames = ToolNamesById(messages);
        var contents = new JsonArray();
        var system = new JsonArray();
        string? lastRole = null;
        JsonArray? lastParts = null;

        foreach (var node in messages)
        {
            if (node is not JsonObject message)
            {
                throw new TranslationException("Each message must be an object");
            }
            var role = ChatJson.String(message["role"]);
            switch (role)
            {
                case "system" or "developer":
                    foreach (var part in TextParts(message["content"], role))
                    {
                        system.Add((JsonNode)part);
                    }
                    continue;
                case "user" or "assistant" or "tool" or "function":
                    break;
                default:
                    throw new TranslationException($"Unsupported message role '{role}'");
            }
            var geminiRole = role == "assistant" ? "model" : "user";
            var parts = role switch
            {
                "assistant" => AssistantParts(message),
                "tool" or "function" => [ToolResponse(message, toolNames)],
                _ => UserParts(message["content"]),
            };
            if (parts.Count == 0)
            {
                continue;
            }
            if (geminiRole == lastRole && lastParts is not null)
            {
                foreach (var p in parts)
                {
                    lastParts.Add((JsonNode)p);
                }
                continue;
            }
            lastParts = new JsonArray();
            foreach (var p in parts)
            {
                lastParts.Add((JsonNode)p);
            }
            lastRole = geminiRole;
            contents.Add((JsonNode)new JsonObject { ["role"] = geminiRole, ["parts"] = lastParts });
        }
        if (contents.Count == 0)
        {
            throw new TranslationException("Gemini needs at least one user or assistant message");
        }
        request["contents"] = contents;
        if (system.Count > 0)
        {
            request["systemInstruction"] = new JsonObject { ["parts"] = system };
        }
        if (Tools(chat["tools"]) is { } tools)
        {
            request["tools"] = tools;
        }
        if (ToolConfig(chat["tool_choice"]) is { } toolConfig)
        {
            request["toolConfig"] = toolConfig;
        }
        if (GenerationConfig(chat) is { Count: > 0 } config)
        {
            request["generationConfig"] = config;
        }
        return request;
    }

    private static Dictionary<string, string> ToolNamesById(JsonArray messages)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var m in messages)
        {
            if (m is JsonObject { } o && o["tool_calls"] is JsonArray calls)
            {
                foreach (var c in calls)
                {
                    if (ChatJson.String(c?["id"]) is { } id && ChatJson.String(c?["function"]?["name"]) is { } name)
                    {
                        names[id] = name;
                    }
                }
            }
        }
        return names;
    }

    private static IEnumerable<JsonObject> TextParts(JsonNode? content, string role)
    {
        switch (content)
        {
            case JsonValue v when v.TryGetValue<string>(out var text):
                yield return new JsonObject { ["text"] = text };
                break;
            case JsonArray array:
                foreach (var part in array)
                {
                    if (ChatJson.String(part?["type"]) == "text")
                    {
                        yield return new JsonObject { ["text"] = ChatJson.String(part?["text"]) ?? "" };
                    }
                    else
                    {
                        throw new TranslationException($"A {role} message may only hold text parts");
                    }
                }
                break;
            case null:
                break;
            default:
                throw new TranslationException($"A {role} message's content must be a string or an array of parts");
        }
    }

    private static List<JsonObject> UserParts(JsonNode? content)
    {
        var parts = new List<JsonObject>();
        switch (content)
        {
            case JsonValue v when v.TryGetValue<string>(out var text):
                parts.Add(new JsonObject { ["text"] = text });
                break;
            case JsonArray array:
                foreach (var node in array)
                {
                    if (node is JsonObject part)
                    {
                        parts.Add(ContentPart(part));
                    }
                }
                break;
            case null:
                break;
            default:
                throw new TranslationException("A message's content must be a string or an array of parts");
        }
        return parts;
    }

    private static JsonObject ContentPart(JsonObject part)
    {
        var type = ChatJson.String(part["type"]);
        switch (type)
        {
            case "text":
                return new JsonObject { ["text"] = ChatJson.String(part["text"]) ?? "" };
            case "image_url":
                var image = part["image_url"];
                var url = image is JsonValue ? ChatJson.String(image) : ChatJson.String(image?["url"]);
                if (string.IsNullOrEmpty(url))
                {
                    throw new TranslationException("image_url.url is required");
                }
                return Media(url, ChatJson.String(image?["mime_type"]) ?? ChatJson.String(image?["format"]));
            case "input_audio":
                var data = ChatJson.String(part["input_audio"]?["data"]) ?? throw new TranslationException("input_audio.data is required");
                var format = ChatJson.String(part["input_audio"]?["format"]) ?? "wav";
                return new JsonObject { ["inlineData"] = new JsonObject { ["mimeType"] = "audio/" + format, ["data"] = data } };
            case "file":
                var file = part["file"];
                var fileData = ChatJson.String(file?["file_data"]);
                var fileUrl = fileData ?? ChatJson.String(file?["file_url"]) ?? ChatJson.String(file?["file_id"]);
                if (string.IsNullOrEmpty(fileUrl))
                {
                    throw new TranslationException("file.file_data, file.file_url or file.file_id is required");
                }
                return Media(fileUrl, ChatJson.String(file?["mime_type"]) ?? ChatJson.String(file?["format"]));
            default:
                throw new TranslationException($"Content part type '{type}' is not supported by Gemini");
        }
    }

    /// <summary>A data URI → <c>inlineData</c>; any other URL (http(s), gs://, Files API) → <c>fileData</c> with a MIME type guessed from its extension.</summary>
    internal static JsonObject Media(string url, string? mimeType)
    {
        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var comma = url.IndexOf(',');
            var header = comma < 0 ? "" : url[5..comma];
            if (comma < 0 || !header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            {
                throw new TranslationException("Only base64 data URIs are supported");
            }
            var mime = header[..^7];
            return new JsonObject
            {
                ["inlineData"] = new JsonObject { ["mimeType"] = mime.Length > 0 ? mime : mimeType ?? "application/octet-stream", ["data"] = url[(comma + 1)..] },
            };
        }
        return new JsonObject { ["fileData"] = new JsonObject { ["mimeType"] = mimeType ?? GuessMimeType(url), ["fileUri"] = url } };
    }

    public static string GuessMimeType(string url)
    {
        var path = url;
        var cut = path.IndexOfAny(['?', '#']);
        if (cut >= 0)
        {
            path = path[..cut];
        }
        var dot = path.LastIndexOf('.');
        var ext = dot < 0 || dot < path.LastIndexOf('/') ? "" : path[(dot + 1)..].ToLowerInvariant();
        return ext switch
        {
            "png" => "image/png",
            "jpg" or "jpeg" => "image/jpeg",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "heic" => "image/heic",
            "heif" => "image/heif",
            "pdf" => "application/pdf",
            "txt" => "text/plain",
            "md" => "text/markdown",
            "html" => "text/html",
            "csv" => "text/csv",
            "mp3" => "audio/mp3",
            "wav" => "audio/wav",
            "flac" => "audio/flac",
            "ogg" => "audio/ogg",
            "mp4" => "video/mp4",
            "mov" => "video/mov",
            "webm" => "video/webm",
            _ => "image/jpeg",
        };
    }

    private static List<JsonObject> AssistantParts(JsonObject message)
    {
        var parts = new List<JsonObject>();
        if (message["thinking_blocks"] is JsonArray blocks)
        {
            foreach (var block in blocks)
            {
                if (ChatJson.String(block?["type"]) == "thinking" && ChatJson.String(block?["thinking"]) is { Length: > 0 } thought)
                {
                    var part = new JsonObject { ["text"] = thought, ["thought"] = true };
                    if (ChatJson.String(block?["signature"]) is { Length: > 0 } signature)
                    {
                        part["thoughtSignature"] = signature;
                    }
                    parts.Add(part);
                }
            }
        }
        foreach (var p in UserParts(message["content"]))
        {
            if (p["text"] is not JsonValue t || t.ToString().Length > 0)
            {
                parts.Add(p);
            }
        }
        if (message["tool_calls"] is JsonArray calls)
        {
            foreach (var c in calls)
            {
                var function = c?["function"];
                var name = ChatJson.String(function?["name"]) ?? throw new TranslationException("tool_calls[].function.name is required");
                var args = ChatJson.String(function?["arguments"]);
                JsonNode? parsed;
                try
                {
                    parsed = string.IsNullOrWhiteSpace(args) ? new JsonObject() : JsonNode.Parse(args);
                }
                catch (JsonException)
                {
                    throw new TranslationException($"tool_calls[].function.arguments of '{name}' is not valid JSON");
                }
                var part = new JsonObject { ["functionCall"] = new JsonObject { ["name"] = name, ["args"] = parsed as JsonObject ?? new JsonObject() } };
                // Switchyard returns the signature on the call; Portkey's non-strict answers put it in function.
                if ((ChatJson.String(c?["thought_signature"]) ?? ChatJson.String(function?["thought_signature"])) is { Length: > 0 } signature)
                {
                    part["thoughtSignature"] = signature;
                }
                parts.Add(part);
            }
        }
        return parts;
    }

    private static JsonObject ToolResponse(JsonObject message, Dictionary<string, string> toolNames)
    {
        var id = ChatJson.String(message["tool_call_id"]);
        var name = (id is not null && toolNames.TryGetValue(id, out var n) ? n : null) ?? ChatJson.String(message["name"])
            ?? throw new TranslationException($"The tool message for '{id}' does not answer any earlier assistant tool call");
        var text = message["content"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonArray a => string.Concat(a.Select(p => ChatJson.String(p?["text"]) ?? "")),
            _ => "",
        };
        JsonObject response;
        try
        {
            response = JsonNode.Parse(text) as JsonObject ?? new JsonObject { ["output"] = text };
        }
        catch (JsonException)
        {
            response = new JsonObject { ["output"] = text };
        }
        return new JsonObject { ["functionResponse"] = new JsonObject { ["name"] = name, ["response"] = response } };
    }

    private static JsonArray? Tools(JsonNode? tools)
    {
        if (tools is not JsonArray { Count: > 0 } list)
        {
            return null;
        }
        var declarations = new JsonArray();
        foreach (var tool in list)
        {
            if (ChatJson.String(tool?["type"]) is not ("function" or null))
            {
                throw new TranslationException($"Tool type '{ChatJson.String(tool?["type"])}' is not supported by Gemini");
            }
            var function = tool?["function"] as JsonObject ?? throw new TranslationException("tools[].function is required");
            var declaration = new JsonObject { ["name"] = ChatJson.String(function["name"]) ?? throw new TranslationException("tools[].function.name is required") };
            if (ChatJson.String(function["description"]) is { } description)
            {
                declaration["description"] = description;
            }
            if (function["parameters"] is JsonObject parameters && !IsEmptyObjectSchema(parameters))
            {
                declaration["parameters"] = GeminiSchema.Sanitize(parameters);
            }
            declarations.Add((JsonNode)declaration);
        }
        return new JsonArray(new JsonObject { ["functionDeclarations"] = declarations });
    }

    /// <summary>Gemini rejects an OBJECT schema with no properties; a function without parameters simply has none.</summary>
    private static bool IsEmptyObjectSchema(JsonObject schema) =>
        schema["properties"] is null or JsonObject { Count: 0 } && ChatJson.String(schema["type"]) is "object" or null;

    private static JsonObject? ToolConfig(JsonNode? choice)
    {
        JsonObject config;
        switch (choice)
        {
            case null:
                return null;
            case JsonValue v when v.TryGetValue<string>(out var mode):
                config = new JsonObject
                {
                    ["mode"] = mode switch
                    {
                        "auto" => "AUTO",
                        "none" => "NONE",
                        "required" => "ANY",
                        _ => throw new TranslationException($"tool_choice '{mode}' is not supported"),
                    },
                };
                break;
            case JsonObject o when ChatJson.String(o["function"]?["name"]) is { } name:
                config = new JsonObject { ["mode"] = "ANY", ["allowedFunctionNames"] = new JsonArray(name) };
                break;
            default:
                throw new TranslationException("tool_choice must be auto, none, required or {type: function, function: {name}}");
        }
        return new JsonObject { ["functionCallingConfig"] = config };
    }

    private static JsonObject GenerationConfig(JsonObject chat)
    {
        var config = new JsonObject();
        Copy(chat, "temperature", config, "temperature");
        Copy(chat, "top_p", config, "topP");
        Copy(chat, "top_k", config, "topK");
        Copy(chat, "max_tokens", config, "maxOutputTokens");
        Copy(chat, "max_completion_tokens", config, "maxOutputTokens");
        Copy(chat, "n", config, "candidateCount");
        Copy(chat, "seed", config, "seed");
        Copy(chat, "presence_penalty", config, "presencePenalty");
        Copy(chat, "frequency_penalty", config, "frequencyPenalty");
        if (chat["logprobs"] is JsonValue lp && lp.TryGetValue<bool>(out var wantLogprobs) && wantLogprobs)
        {
            config["responseLogprobs"] = true;
            Copy(chat, "top_logprobs", config, "logprobs");
        }
        switch (chat["stop"])
        {
            case JsonValue v when v.TryGetValue<string>(out var stop):
                config["stopSequences"] = new JsonArray(stop);
                break;
            case JsonArray stops when stops.Count > 0:
                config["stopSequences"] = stops.DeepClone();
                break;
        }
        if (chat["response_format"] is JsonObject format)
        {
            switch (ChatJson.String(format["type"]))
            {
                case "json_object":
                    config["responseMimeType"] = "application/json";
                    break;
                case "json_schema":
                    config["responseMimeType"] = "application/json";
                    if (format["json_schema"]?["schema"] is JsonObject schema)
                    {
                        config["responseSchema"] = GeminiSchema.Sanitize(schema);
                    }
                    break;
                case "text" or null:
                    break;
                default:
                    throw new TranslationException($"response_format type '{ChatJson.String(format["type"])}' is not supported by Gemini");
            }
        }
        if (Thinking(chat) is { } thinking)
        {
            config["thinkingConfig"] = thinking;
        }
        return config;
    }

    /// <summary><c>thinking</c> (Anthropic shape) wins over <c>reasoning_effort</c>; effort maps to a token budget.</summary>
    private static JsonObject? Thinking(JsonObject chat)
    {
        if (chat["thinking"] is JsonObject thinking)
        {
            return ChatJson.String(thinking["type"]) switch
            {
                "enabled" => new JsonObject
                {
                    ["thinkingBudget"] = thinking["budget_tokens"] is JsonValue b && b.TryGetValue<long>(out var budget) ? budget : -1,
                    ["includeThoughts"] = true,
                },
                "disabled" => new JsonObject { ["thinkingBudget"] = 0 },
                _ => null,
            };
        }
        return ChatJson.String(chat["reasoning_effort"]) switch
        {
            null => null,
            "none" => new JsonObject { ["thinkingBudget"] = 0 },
            "minimal" => new JsonObject { ["thinkingBudget"] = 512 },
            "low" => new JsonObject { ["thinkingBudget"] = 1024 },
            "medium" => new JsonObject { ["thinkingBudget"] = 8192 },
            "high" => new JsonObject { ["thinkingBudget"] = 24576 },
            var other => throw new TranslationException($"reasoning_effort '{other}' is not supported"),
        };
    }

    private static void Copy(JsonObject from, string name, JsonObject to, string geminiName)
    {
        if (from[name] is JsonValue v)
        {
            to[geminiName] = v.DeepClone();
        }
    }
}
