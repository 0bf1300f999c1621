using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails;

/// <summary>Finds the text slots of a request or response body for each request type, in the client's own protocol.</summary>
/// <remarks>
/// Reading and writing go through the same locator: to rewrite, the caller clones the body, locates the slots in the
/// clone and writes into them, so a replacement always lands exactly where the text was read from.
/// </remarks>
internal static class ContentLocator
{
    public static (JsonNode? Content, List<TextSlot> Slots) Locate(JsonObject? root, string requestType, HookEvent ev, TextScope scope)
    {
        var slots = new List<TextSlot>();
        if (root is null) return (null, slots);
        JsonNode? content = ev == HookEvent.BeforeRequest
            ? LocateRequest(root, requestType, scope, slots)
            : LocateResponse(root, requestType, scope, slots);
        return (content, slots);
    }

    private static JsonNode? LocateRequest(JsonObject root, string requestType, TextScope scope, List<TextSlot> slots)
    {
        switch (requestType)
        {
            case "chatComplete":
            case "messages":
            {
                if (scope == TextScope.All && requestType == "messages" && root["system"] is { } system)
                {
                    AddContent(root, "system", system, slots);
                }
                if (root["messages"] is not JsonArray messages || messages.Count == 0) return null;
                if (scope == TextScope.All)
                {
                    for (var i = 0; i < messages.Count - 1; i++)
                    {
                        if (messages[i] is JsonObject m && m["content"] is { } c) AddContent(m, "content", c, slots);
                    }
                }
                if (messages[^1] is not JsonObject last) return null;
                var content = last["content"];
                if (content is not null) AddContent(last, "content", content, slots);
                return content;
            }
            case "complete":
                return AddStringOrArray(root, "prompt", slots);
            case "embed":
                return AddStringOrArray(root, "input", slots);
            case "createModelResponse":
            {
                if (scope == TextScope.All && root["instructions"] is JsonValue instructions && instructions.TryGetValue<string>(out var ins))
                {
                    slots.Add(TextSlot.OfProperty(ins, root, "instructions"));
                }
                var input = root["input"];
                if (input is JsonValue v && v.TryGetValue<string>(out var text))
                {
                    slots.Add(TextSlot.OfProperty(text, root, "input"));
                    return input;
                }
                if (input is not JsonArray items || items.Count == 0) return null;
                if (scope == TextScope.All)
                {
                    for (var i = 0; i < items.Count - 1; i++) AddResponsesInputItem(items[i], slots);
                }
                AddResponsesInputItem(items[^1], slots);
                return input;
            }
            default:
                return null;
        }
    }

    private static JsonNode? LocateResponse(JsonObject root, string requestType, TextScope scope, List<TextSlot> slots)
    {
        switch (requestType)
        {
            case "chatComplete":
            {
                if (root["choices"] is not JsonArray choices || choices.Count == 0) return null;
                JsonNode? first = null;
                var count = scope == TextScope.All ? choices.Count : 1;
                for (var i = 0; i < count; i++)
                {
                    if (choices[i] is not JsonObject choice || choice["message"] is not JsonObject message) continue;
                    var content = message["content"];
                    if (i == 0) first = content;
                    if (content is not null) AddContent(message, "content", content, slots);
                }
                return first;
            }
            case "complete":
            {
                if (root["choices"] is not JsonArray choices || choices.Count == 0) return null;
                JsonNode? first = null;
                var count = scope == TextScope.All ? choices.Count : 1;
                for (var i = 0; i < count; i++)
                {
                    if (choices[i] is not JsonObject choice) continue;
                    var text = choice["text"];
                    if (i == 0) first = text;
                    if (text is JsonValue tv && tv.TryGetValue<string>(out var s)) slots.Add(TextSlot.OfProperty(s, choice, "text"));
                }
                return first;
            }
            case "messages":
            {
                var content = root["content"];
                if (content is JsonArray blocks) AddParts(blocks, slots);
                return content;
            }
            case "createModelResponse":
            {
                var output = root["output"];
                if (output is not JsonArray items) return null;
                foreach (var item in items)
                {
                    if (item is JsonObject o && ChatText(o["type"]) == "message" && o["content"] is JsonArray parts)
                    {
                        foreach (var part in parts)
                        {
                            if (part is JsonObject p && ChatText(p["type"]) is "output_text" or "text" && p["text"] is JsonValue t
                                && t.TryGetValue<string>(out var s))
                            {
                                slots.Add(TextSlot.OfProperty(s, p, "text"));
                            }
                        }
                    }
                }
                return output;
            }
            default:
                return null;
        }
    }

    private static void AddResponsesInputItem(JsonNode? node, List<TextSlot> slots)
    {
        if (node is not JsonObject item) return;
        var type = ChatText(item["type"]);
        if (type == "function_call_output" && item["output"] is JsonValue ov && ov.TryGetValue<string>(out var output))
        {
            slots.Add(TextSlot.OfProperty(output, item, "output"));
            return;
        }
        if ((type == "message" || item["role"] is not null) && item["content"] is { } content)
        {
            AddContent(item, "content", content, slots);
        }
    }

    /// <summary>A message content: a string (one slot) or an array of parts (one slot per part, placeholders for non-text parts).</summary>
    private static void AddContent(JsonObject owner, string property, JsonNode content, List<TextSlot> slots)
    {
        if (content is JsonValue v && v.TryGetValue<string>(out var s)) slots.Add(TextSlot.OfProperty(s, owner, property));
        else if (content is JsonArray parts) AddParts(parts, slots);
    }

    private static void AddParts(JsonArray parts, List<TextSlot> slots)
    {
        foreach (var part in parts)
        {
            if (part is JsonObject p && p["text"] is JsonValue t && t.TryGetValue<string>(out var s)) slots.Add(TextSlot.OfProperty(s, p, "text"));
            else slots.Add(TextSlot.Placeholder);
        }
    }

    private static JsonNode? AddStringOrArray(JsonObject root, string property, List<TextSlot> slots)
    {
        var node = root[property];
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) slots.Add(TextSlot.OfProperty(s, root, property));
        else if (node is JsonArray a)
        {
            for (var i = 0; i < a.Count; i++)
            {
                if (a[i] is JsonValue e && e.TryGetValue<string>(out var es)) slots.Add(TextSlot.OfElement(es, a, i));
                else slots.Add(TextSlot.Placeholder);
            }
        }
        return node;
    }

    internal static string? ChatText(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
