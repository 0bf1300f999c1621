using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Switchyard.Simulators.Anthropic;

/// <summary>Checks a Messages request the way the real API does; returns the invalid_request_error message or null.</summary>
internal static partial class AnthropicValidator
{
    private static readonly HashSet<string> Allowed =
    [
        "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature", "top_p", "top_k",
        "tools", "tool_choice", "thinking", "service_tier", "container", "mcp_servers", "context_management",
    ];

    private static readonly HashSet<string> CountTokensAllowed = ["model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers"];

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,128}$")]
    private static partial Regex ToolName();

    private static string? Str(JsonNode? node) => AnthropicSimulator.ChatJsonString(node);

    public static string? Validate(JsonObject body, bool vertex, bool countTokens)
    {
        foreach (var (key, _) in body)
        {
            var ok = (countTokens ? CountTokensAllowed : Allowed).Contains(key) || (vertex && key == "anthropic_version");
            if (!ok || (vertex && key == "model"))
            {
                return $"{key}: Extra inputs are not permitted";
            }
        }
        if (!vertex && Str(body["model"]) is not { Length: > 0 })
        {
            return "model: Field required";
        }
        if (!countTokens)
        {
            if (body["max_tokens"] is not JsonValue mt || !mt.TryGetValue<long>(out var maxTokens))
            {
                return "max_tokens: Field required";
            }
            if (maxTokens < 1)
            {
                return "max_tokens: Input should be greater than or equal to 1";
            }
            if (body["thinking"] is JsonObject thinking)
            {
                switch (Str(thinking["type"]))
                {
                    case "enabled":
                        if (thinking["budget_tokens"] is not JsonValue bv || !bv.TryGetValue<long>(out var budget))
                        {
                            return "thinking.enabled.budget_tokens: Field required";
                        }
                        if (budget < 1024)
                        {
                            return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024";
                        }
                        if (budget >= maxTokens)
                        {
                            return "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size";
                        }
                        break;
                    case "disabled":
                        break;
                    default:
                        return "thinking: Input tag does not match any of the expected tags: 'disabled', 'enabled'";
                }
            }
        }
        if (body["temperature"] is JsonNode temperatureNode)
        {
            if (temperatureNode is not JsonValue tv || !tv.TryGetValue<double>(out var temperature))
            {
                return "temperature: Input should be a valid number";
            }
            if (temperature is < 0 or > 1)
            {
                return temperature < 0 ? "temperature: Input should be greater than or equal to 0" : "temperature: Input should be less than or equal to 1";
            }
        }
        if (body["stop_sequences"] is JsonNode stops && (stops is not JsonArray array || array.Any(s => Str(s) is null)))
        {
            return "stop_sequences: Input should be a valid list of strings";
        }
        if (body["stream"] is JsonNode stream && (stream is not JsonValue sv || !sv.TryGetValue<bool>(out _)))
        {
            return "stream: Input should be a valid boolean";
        }
        if (body["system"] is JsonNode system && Str(system) is null)
        {
            if (system is not JsonArray blocks)
            {
                return "system: Input should be a valid string or list of text blocks";
            }
            for (var i = 0; i < blocks.Count; i++)
            {
                if (Str(blocks[i]?["type"]) != "text" || Str(blocks[i]!["text"]) is null)
                {
                    return $"system.{i}: Input should be a text block";
                }
                if (CacheControl(blocks[i]!, $"system.{i}") is { } cacheError)
                {
                    return cacheError;
                }
            }
        }
        var toolNames = new HashSet<string>();
        if (body["tools"] is JsonNode toolsNode)
        {
            if (toolsNode is not JsonArray tools)
            {
                return "tools: Input should be a valid list";
            }
            for (var i = 0; i < tools.Count; i++)
            {
                if (tools[i] is not JsonObject tool)
                {
                    return $"tools.{i}: Input should be an object";
                }
                var name = Str(tool["name"]);
                if (name is null)
                {
                    return $"tools.{i}.custom.name: Field required";
                }
                if (!ToolName().IsMatch(name))
                {
                    return $"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'";
                }
                if (!toolNames.Add(name))
                {
                    return "tools: Tool names must be unique.";
                }
                if (tool["input_schema"] is not JsonObject schema)
                {
                    return $"tools.{i}.custom.input_schema: Field required";
                }
                if (Str(schema["type"]) != "object")
                {
                    return $"tools.{i}.custom.input_schema.type: Input should be 'object'";
                }
                if (CacheControl(tool, $"tools.{i}") is { } cacheError)
                {
                    return cacheError;
                }
            }
        }
        if (body["tool_choice"] is JsonNode choiceNode)
        {
            var type = Str(choiceNode["type"]);
            if (type is not ("auto" or "any" or "tool" or "none"))
            {
                return "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'";
            }
            if (type == "tool" && !toolNames.Contains(Str(choiceNode["name"]) ?? ""))
            {
                return $"tool_choice.tool.name: Tool '{Str(choiceNode["name"])}' not found in tools";
            }
            if (type is "tool" or "any" && body["thinking"] is JsonObject t && Str(t["type"]) == "enabled")
            {
                return "Thinking may not be enabled when tool_choice forces tool use.";
            }
        }
        return Messages(body["messages"]);
    }

    private static string? CacheControl(JsonNode block, string where)
    {
        if (block["cache_control"] is not JsonNode cache)
        {
            return null;
        }
        if (Str(cache["type"]) != "ephemeral")
        {
            return $"{where}.cache_control.type: Input should be 'ephemeral'";
        }
        if (Str(cache["ttl"]) is { } ttl && ttl is not ("5m" or "1h"))
        {
            return $"{where}.cache_control.ttl: Input should be '5m' or '1h'";
        }
        return null;
    }

    private static string? Messages(JsonNode? node)
    {
        if (node is not JsonArray messages)
        {
            return "messages: Field required";
        }
        if (messages.Count == 0)
        {
            return "messages: at least one message is required";
        }
        HashSet<string>? pendingToolUses = null;
        var pendingAt = -1;
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not JsonObject message)
            {
                return $"messages.{i}: Input should be an object";
            }
            foreach (var (key, _) in message)
            {
                if (key is not ("role" or "content"))
                {
                    return $"messages.{i}.{key}: Extra inputs are not permitted";
                }
            }
            var role = Str(message["role"]);
            if (role is not ("user" or "assistant"))
            {
                return $"messages.{i}.role: Input should be 'user' or 'assistant'";
            }
            if (i == 0 && role != "user")
            {
                return "messages: first message must use the \"user\" role";
            }
            var content = message["content"];
            var results = new HashSet<string>();
            var uses = new HashSet<string>();
            if (Str(content) is { } text)
            {
                if (text.Length == 0 && !(role == "assistant" && i == messages.Count - 1))
                {
                    return $"messages.{i}: all messages must have non-empty content except for the optional final assistant message";
                }
            }
            else if (content is JsonArray blocks)
            {
                if (blocks.Count == 0)
                {
                    return $"messages.{i}: all messages must have non-empty content except for the optional final assistant message";
                }
                for (var j = 0; j < blocks.Count; j++)
                {
                    if (Block(blocks[j], role, $"messages.{i}.content.{j}", uses, results) is { } error)
                    {
                        return error;
                    }
                }
            }
            else
            {
                return $"messages.{i}.content: Input should be a valid string or list of content blocks";
            }
            if (pendingToolUses is not null)
            {
                var missing = pendingToolUses.Where(id => !results.Contains(id)).ToList();
                if (missing.Count > 0)
                {
                    return $"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {string.Join(", ", missing)}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.";
                }
                pendingToolUses = null;
            }
            else if (results.Count > 0)
            {
                return $"messages.{i}.content.0: unexpected `tool_use_id` found in `tool_result` blocks: {results.First()}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.";
            }
            if (uses.Count > 0)
            {
                pendingToolUses = uses;
                pendingAt = i;
            }
        }
        if (pendingToolUses is not null && pendingAt < messages.Count - 1)
        {
            return $"messages.{pendingAt}: tool_use without tool_result";
        }
        return null;
    }

    private static string? Block(JsonNode? node, string role, string where, HashSet<string> uses, HashSet<string> results)
    {
        if (node is not JsonObject block)
        {
            return $"{where}: Input should be an object";
        }
        if (CacheControl(block, where) is { } cacheError)
        {
            return cacheError;
        }
        switch (Str(block["type"]))
        {
            case "text":
                return Str(block["text"]) is null ? $"{where}.text.text: Field required" : null;
            case "image" when role == "user":
                return Source(block["source"], $"{where}.image.source", image: true);
            case "document" when role == "user":
                return Source(block["source"], $"{where}.document.source", image: false);
            case "tool_result" when role == "user":
                var id = Str(block["tool_use_id"]);
                if (id is null)
                {
                    return $"{where}.tool_result.tool_use_id: Field required";
                }
                results.Add(id);
                return null;
            case "tool_use" when role == "assistant":
                var useId = Str(block["id"]);
                if (useId is null || Str(block["name"]) is null || block["input"] is not JsonObject)
                {
                    return $"{where}.tool_use: id, name and input (an object) are required";
                }
                uses.Add(useId);
                return null;
            case "thinking" when role == "assistant":
                return Str(block["signature"]) is null ? $"{where}.thinking.signature: Field required"
                    : Str(block["thinking"]) is null ? $"{where}.thinking.thinking: Field required" : null;
            case "redacted_thinking" when role == "assistant":
                return Str(block["data"]) is null ? $"{where}.redacted_thinking.data: Field required" : null;
            case var type:
                return $"{where}: Input tag '{type}' found using 'type' is not valid for a {role} message";
        }
    }

    private static string? Source(JsonNode? node, string where, bool image)
    {
        if (node is not JsonObject source)
        {
            return $"{where}: Field required";
        }
        switch (Str(source["type"]))
        {
            case "base64":
                var media = Str(source["media_type"]);
                var allowed = image ? media is "image/jpeg" or "image/png" or "image/gif" or "image/webp" : media == "application/pdf";
                if (!allowed)
                {
                    return image
                        ? $"{where}.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
                        : $"{where}.base64.media_type: Input should be 'application/pdf'";
                }
                var data = Str(source["data"]);
                if (string.IsNullOrEmpty(data) || !Convert.TryFromBase64String(data, new byte[data.Length], out _))
                {
                    return $"{where}.base64.data: Input should be valid base64";
                }
                return null;
            case "url":
                var url = Str(source["url"]);
                return url is not null && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                    ? null : $"{where}.url.url: Input should be a valid URL";
            case "text" when !image:
                return Str(source["data"]) is null ? $"{where}.text.data: Field required" : null;
            default:
                return $"{where}: Input tag '{Str(source["type"])}' found using 'type' does not match any of the expected tags";
        }
    }
}
