using System.Text.Json.Nodes;

namespace Switchyard.Simulators.Bedrock;

/// <summary>Validates a Converse request body the way Bedrock does; returns the ValidationException message or null.</summary>
internal static class ConverseValidator
{
    private static readonly HashSet<string> TopLevel =
    [
        "messages", "system", "inferenceConfig", "toolConfig", "guardrailConfig", "additionalModelRequestFields",
        "promptVariables", "additionalModelResponseFieldPaths", "requestMetadata", "performanceConfig",
    ];

    private static readonly HashSet<string> ImageFormats = ["png", "jpeg", "gif", "webp"];

    public static string? Validate(JsonObject body)
    {
        foreach (var key in body.Select(p => p.Key))
        {
            if (!TopLevel.Contains(key))
            {
                return $"Malformed input request: #: extraneous key [{key}] is not permitted, please reformat your input and try again.";
            }
        }
        if (body["messages"] is not JsonArray messages || messages.Count == 0)
        {
            return "The model returned the following errors: messages: field required";
        }
        var tools = new HashSet<string>();
        if (body["toolConfig"] is { } tc)
        {
            var error = ToolConfig(tc, tools);
            if (error is not null)
            {
                return error;
            }
        }
        if (body["system"] is { } system)
        {
            if (system is not JsonArray sys)
            {
                return "Malformed input request: #/system: expected type: JSONArray";
            }
            foreach (var block in sys)
            {
                if (block is not JsonObject b || b.Count != 1 || !(b.ContainsKey("text") || b.ContainsKey("cachePoint") || b.ContainsKey("guardContent")))
                {
                    return "Malformed input request: #/system: each SystemContentBlock must hold exactly one of text, cachePoint, guardContent";
                }
                if (b["text"] is JsonValue t && string.IsNullOrWhiteSpace(t.ToString()))
                {
                    return "The text field in the SystemContentBlock object is blank. Add text to the text field, and try again.";
                }
            }
        }
        string? previousRole = null;
        HashSet<string> pendingToolUses = [];
        var usesTools = false;
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not JsonObject m)
            {
                return $"Malformed input request: #/messages/{i}: expected type: JSONObject";
            }
            foreach (var key in m.Select(p => p.Key))
            {
                if (key is not ("role" or "content"))
                {
                    return $"Malformed input request: #/messages/{i}: extraneous key [{key}] is not permitted, please reformat your input and try again.";
                }
            }
            var role = m["role"]?.ToString();
            if (role is not ("user" or "assistant"))
            {
                return $"Malformed input request: #/messages/{i}/role: {role} is not a valid enum value";
            }
            if (i == 0 && role != "user")
            {
                return "A conversation must start with a user message. Try again with a conversation that starts with a user message.";
            }
            if (role == previousRole)
            {
                return "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.";
            }
            if (m["content"] is not JsonArray content || content.Count == 0)
            {
                return $"The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to the content field and try again.";
            }
            HashSet<string> toolUses = [];
            HashSet<string> answered = [];
            foreach (var node in content)
            {
                if (node is not JsonObject block || block.Count != 1)
                {
                    return $"Malformed input request: #/messages/{i}/content: a ContentBlock must hold exactly one member";
                }
                var (kind, value) = block.First();
                switch (kind)
                {
                    case "text":
                        if (string.IsNullOrWhiteSpace(value?.ToString()))
                        {
                            return "The text field in the ContentBlock object is blank. Add text to the text field, and try again.";
                        }
                        break;
                    case "image":
                        if (value is not JsonObject img || img["format"]?.ToString() is not { } fmt || !ImageFormats.Contains(fmt)
                            || img["source"] is not JsonObject src || src.Count != 1 || src["bytes"]?.ToString() is not { Length: > 0 } b64)
                        {
                            return $"Malformed input request: #/messages/{i}/content: image must be {{format: png|jpeg|gif|webp, source: {{bytes}}}}";
                        }
                        try
                        {
                            Convert.FromBase64String(b64);
                        }
                        catch (FormatException)
                        {
                            return "Invalid base64 in image.source.bytes";
                        }
                        break;
                    case "toolUse" when role == "assistant":
                        usesTools = true;
                        if (value is not JsonObject use || use["toolUseId"]?.ToString() is not { Length: > 0 } id || use["name"] is null || use["input"] is not JsonObject)
                        {
                            return $"Malformed input request: #/messages/{i}: toolUse needs toolUseId, name and an input object";
                        }
                        toolUses.Add(id);
                        break;
                    case "toolResult" when role == "user":
                        usesTools = true;
                        if (value is not JsonObject result || result["toolUseId"]?.ToString() is not { } rid || result["content"] is not JsonArray)
                        {
                            return $"Malformed input request: #/messages/{i}: toolResult needs toolUseId and content";
                        }
                        if (!pendingToolUses.Contains(rid))
                        {
                            return $"The toolResult blocks at messages.{i}.content contain toolUseId {rid} that does not match a toolUse block of the previous turn.";
                        }
                        answered.Add(rid);
                        break;
                    case "reasoningContent" when role == "assistant":
                    case "cachePoint":
                        break;
                    default:
                        return $"Malformed input request: #/messages/{i}/content: {kind} is not permitted in a {role} message";
                }
            }
            if (role == "user" && pendingToolUses.Count > 0 && !pendingToolUses.SetEquals(answered))
            {
                return $"Expected toolResult blocks at messages.{i}.content for the following Ids: {string.Join(", ", pendingToolUses.Except(answered))}";
            }
            pendingToolUses = role == "assistant" ? toolUses : [];
            previousRole = role;
        }
        if (usesTools && body["toolConfig"] is null)
        {
            return "The toolConfig field must be defined when using toolUse and toolResult content blocks.";
        }
        if (body["inferenceConfig"] is { } ic)
        {
            if (ic is not JsonObject inference)
            {
                return "Malformed input request: #/inferenceConfig: expected type: JSONObject";
            }
            foreach (var (key, v) in inference)
            {
                switch (key)
                {
                    case "maxTokens":
                        if (v is not JsonValue mt || !mt.TryGetValue<int>(out var max) || max < 1)
                        {
                            return "Malformed input request: #/inferenceConfig/maxTokens: must be an integer of at least 1";
                        }
                        break;
                    case "temperature" or "topP":
                        if (v is not JsonValue n || !n.TryGetValue<double>(out var d) || d < 0 || d > 1)
                        {
                            return $"Malformed input request: #/inferenceConfig/{key}: {v} is not in the range 0-1";
                        }
                        break;
                    case "stopSequences":
                        if (v is not JsonArray seq || seq.Count > 4)
                        {
                            return "Malformed input request: #/inferenceConfig/stopSequences: expected maximum item count: 4";
                        }
                        break;
                    default:
                        return $"Malformed input request: #/inferenceConfig: extraneous key [{key}] is not permitted, please reformat your input and try again.";
                }
            }
        }
        return null;
    }

    private static string? ToolConfig(JsonNode node, HashSet<string> names)
    {
        if (node is not JsonObject config || config["tools"] is not JsonArray tools || tools.Count == 0)
        {
            return "Malformed input request: #/toolConfig/tools: expected minimum item count: 1";
        }
        foreach (var key in config.Select(p => p.Key))
        {
            if (key is not ("tools" or "toolChoice"))
            {
                return $"Malformed input request: #/toolConfig: extraneous key [{key}] is not permitted";
            }
        }
        foreach (var t in tools)
        {
            if (t is JsonObject cp && cp.ContainsKey("cachePoint"))
            {
                continue;
            }
            if (t is not JsonObject tool || tool.Count != 1 || tool["toolSpec"] is not JsonObject spec
                || spec["name"]?.ToString() is not { Length: > 0 } name
                || spec["inputSchema"] is not JsonObject schema || schema["json"] is not JsonObject
                || spec.Any(p => p.Key is not ("name" or "description" or "inputSchema")))
            {
                return "Malformed input request: #/toolConfig/tools: each tool must be {toolSpec: {name, description?, inputSchema: {json}}}";
            }
            names.Add(name);
        }
        if (config["toolChoice"] is { } choice)
        {
            if (choice is not JsonObject c || c.Count != 1)
            {
                return "Malformed input request: #/toolConfig/toolChoice: exactly one of auto, any, tool";
            }
            var (kind, value) = c.First();
            switch (kind)
            {
                case "auto" or "any":
                    break;
                case "tool":
                    if ((value as JsonObject)?["name"]?.ToString() is not { } n || !names.Contains(n))
                    {
                        return "The tool named in toolChoice is not in toolConfig.tools.";
                    }
                    break;
                default:
                    return $"Malformed input request: #/toolConfig/toolChoice: extraneous key [{kind}] is not permitted";
            }
        }
        return null;
    }
}
