using System.Text.Json;

namespace Switchyard.Simulators;

/// <summary>The single function call the simulator makes when a request forces tool use.</summary>
internal sealed record ToolCallPlan(string Id, string Name, string Arguments)
{
    /// <summary>
    /// Decides from <c>tools</c> and <c>tool_choice</c> whether to answer with a call; <paramref name="plan"/>
    /// stays null for plain text. Returns an error reply for combinations the real API rejects.
    /// </summary>
    public static SimReply? Decide(JsonElement root, out ToolCallPlan? plan)
    {
        plan = null;
        var hasTools = root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0;
        if (!root.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (!hasTools)
        {
            return OpenAiErrors.InvalidRequest("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "tool_choice");
        }

        string? wanted;
        if (choice.ValueKind == JsonValueKind.String)
        {
            var mode = choice.GetString();
            if (mode is "none" or "auto")
            {
                return null;
            }

            if (mode != "required")
            {
                return OpenAiErrors.InvalidRequest($"Invalid value: '{mode}'. Supported values are: 'none', 'auto', and 'required'.", "tool_choice", "invalid_value");
            }

            wanted = null;
        }
        else if (choice.ValueKind == JsonValueKind.Object)
        {
            // Chat Completions nests the name under "function"; the newer flat form puts it at the top.
            wanted = choice.TryGetProperty("function", out var fn) && fn.ValueKind == JsonValueKind.Object
                ? RequestFields.OptionalString(fn, "name")
                : RequestFields.OptionalString(choice, "name");
            if (wanted is null)
            {
                return OpenAiErrors.InvalidRequest("Missing required parameter: 'tool_choice.function.name'.", "tool_choice.function.name");
            }
        }
        else
        {
            return OpenAiErrors.InvalidType("tool_choice", "a string or an object", choice);
        }

        var function = FindFunction(tools, wanted);
        var name = wanted ?? (function is { } f ? RequestFields.OptionalString(f, "name") : null);
        if (name is null)
        {
            return OpenAiErrors.InvalidRequest("Missing required parameter: 'tools[0].function.name'.", "tools[0].function.name");
        }

        plan = new ToolCallPlan(ResponseIds.New("call_"), name, BuildArguments(function));
        return null;
    }

    private static JsonElement? FindFunction(JsonElement tools, string? name)
    {
        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind == JsonValueKind.Object
                && tool.TryGetProperty("function", out var fn)
                && fn.ValueKind == JsonValueKind.Object
                && (name is null || RequestFields.OptionalString(fn, "name") == name))
            {
                return fn;
            }
        }

        return null;
    }

    /// <summary>A one-property argument object for the function's first required parameter, e.g. <c>{"city":"Paris"}</c>.</summary>
    private static string BuildArguments(JsonElement? function)
    {
        string? property = null;
        JsonElement schema = default;
        if (function is { } fn
            && fn.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object
            && parameters.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array
            && required.GetArrayLength() > 0 && required[0].ValueKind == JsonValueKind.String)
        {
            property = required[0].GetString();
            if (parameters.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object
                && property is not null && properties.TryGetProperty(property, out var found))
            {
                schema = found;
            }
        }

        return System.Text.Encoding.UTF8.GetString(JsonOut.Build(w =>
        {
            w.WriteStartObject();
            if (property is not null)
            {
                w.WritePropertyName(property);
                WriteSampleValue(w, schema);
            }

            w.WriteEndObject();
        }));
    }

    private static void WriteSampleValue(Utf8JsonWriter w, JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            w.WriteStringValue("Paris");
            return;
        }

        if (schema.TryGetProperty("enum", out var options) && options.ValueKind == JsonValueKind.Array && options.GetArrayLength() > 0)
        {
            options[0].WriteTo(w);
            return;
        }

        switch (RequestFields.OptionalString(schema, "type"))
        {
            case "integer":
            case "number":
                w.WriteNumberValue(1);
                break;
            case "boolean":
                w.WriteBooleanValue(true);
                break;
            case "array":
                w.WriteStartArray();
                w.WriteEndArray();
                break;
            case "object":
                w.WriteStartObject();
                w.WriteEndObject();
                break;
            default:
                w.WriteStringValue("Paris");
                break;
        }
    }
}
