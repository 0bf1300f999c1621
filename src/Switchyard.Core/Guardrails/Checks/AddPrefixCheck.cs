using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.addPrefix</c>: prepends <c>prefix</c> to the chosen role's message (creating one if needed) or to the prompt.</summary>
internal sealed class AddPrefixCheck(string prefix, string role, bool addToExisting, bool onlyIfEmpty) : IGuardrailCheck
{
    public bool MayTransform => true;

    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var prefix = p.String("prefix", required: true);
        var role = p.Choice("applyToRole", required: false, "user", "system", "assistant", "developer") ?? "user";
        var addToExisting = p.Bool("addToExisting", true);
        var onlyIfEmpty = p.Bool("onlyIfEmpty");
        return prefix is null || !p.Ok ? null : new AddPrefixCheck(prefix, role, addToExisting, onlyIfEmpty);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var type = context.RequestType;
        if (ev != HookEvent.BeforeRequest || type is not ("complete" or "chatComplete" or "messages" or "createModelResponse"))
        {
            return ValueTask.FromResult(new CheckOutcome(true, null));
        }
        var copy = (JsonObject)context.RequestJson.DeepClone();
        var changed = type switch
        {
            "complete" => PrefixPrompt(copy),
            "messages" when role == "system" => PrefixAnthropicSystem(copy),
            "createModelResponse" => PrefixResponsesInput(copy),
            _ => PrefixMessages(copy, "messages", anthropicBlocks: type == "messages"),
        };
        var data = new JsonObject
        {
            ["prefix"] = prefix,
            ["requestType"] = type,
            ["applyToRole"] = role,
            ["addToExisting"] = addToExisting,
            ["onlyIfEmpty"] = onlyIfEmpty,
        };
        return ValueTask.FromResult(new CheckOutcome(true, data, Transformed: changed) { TransformedRequest = changed ? copy : null });
    }

    private bool PrefixPrompt(JsonObject json)
    {
        switch (json["prompt"])
        {
            case JsonValue v when v.TryGetValue<string>(out var s):
                json["prompt"] = prefix + s;
                return true;
            case JsonArray a when a.Count > 0 && a[0] is JsonValue first && first.TryGetValue<string>(out var s0):
                a[0] = prefix + s0;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Anthropic keeps the system prompt in a top-level field; a "system" message would be rejected upstream.</summary>
    private bool PrefixAnthropicSystem(JsonObject json)
    {
        var system = json["system"];
        if (onlyIfEmpty && !IsEmpty(system)) return false;
        if (system is null)
        {
            json["system"] = prefix;
            return true;
        }
        if (addToExisting)
        {
            json["system"] = Prefixed(system);
            return true;
        }
        var blocks = system is JsonArray existing ? (JsonArray)existing.DeepClone() : new JsonArray(new JsonObject { ["type"] = "text", ["text"] = ContentLocator.ChatText(system) ?? "" });
        blocks.Insert(0, new JsonObject { ["type"] = "text", ["text"] = prefix });
        json["system"] = blocks;
        return true;
    }

    private bool PrefixResponsesInput(JsonObject json)
    {
        if (json["input"] is JsonValue v && v.TryGetValue<string>(out var text))
        {
            if (role == "user" && addToExisting)
            {
                if (onlyIfEmpty && text.Trim().Length > 0) return false;
                json["input"] = prefix + text;
                return true;
            }
            json["input"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text });
        }
        return PrefixMessages(json, "input", anthropicBlocks: false);
    }

    private bool PrefixMessages(JsonObject json, string property, bool anthropicBlocks)
    {
        if (json[property] is not JsonArray messages)
        {
            messages = [];
            json[property] = messages;
        }
        var target = -1;
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is JsonObject m && ContentLocator.ChatText(m["role"]) == role)
            {
                target = i;
                break;
            }
        }
        JsonObject NewMessage() => new()
        {
            ["role"] = role,
            ["content"] = anthropicBlocks ? new JsonArray(new JsonObject { ["type"] = "text", ["text"] = prefix }) : prefix,
        };
        if (target < 0)
        {
            if (role is "system" or "developer") messages.Insert(0, NewMessage());
            else messages.Add((JsonNode)NewMessage());
            return true;
        }
        var message = (JsonObject)messages[target]!;
        if (onlyIfEmpty && !IsEmpty(message["content"])) return false;
        if (addToExisting) message["content"] = Prefixed(message["content"]);
        else messages.Insert(target, NewMessage());
        return true;
    }

    /// <summary>The content with the prefix on its first text part (a new text part first when it has none).</summary>
    private JsonNode Prefixed(JsonNode? content)
    {
        if (content is null) return prefix;
        if (content is JsonValue v && v.TryGetValue<string>(out var s)) return prefix + s;
        if (content is JsonArray parts)
        {
            var clone = (JsonArray)parts.DeepClone();
            if (clone.Count > 0 && clone[0] is JsonObject first && ContentLocator.ChatText(first["type"]) is "text" or "input_text")
            {
                first["text"] = prefix + (ContentLocator.ChatText(first["text"]) ?? "");
            }
            else
            {
                clone.Insert(0, new JsonObject { ["type"] = "text", ["text"] = prefix });
            }
            return clone;
        }
        return prefix + content.ToJsonString();
    }

    private static bool IsEmpty(JsonNode? content) => content switch
    {
        null => true,
        JsonValue v when v.TryGetValue<string>(out var s) => s.Trim().Length == 0,
        JsonArray a => a.Count == 0,
        _ => false,
    };
}
