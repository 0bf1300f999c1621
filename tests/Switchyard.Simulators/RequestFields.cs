using System.Text.Json;

namespace Switchyard.Simulators;

/// <summary>Reads and validates request fields the way the OpenAI API reports problems with them.</summary>
internal static class RequestFields
{
    public static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => value.TryGetInt64(out _) ? "an integer" : "a decimal",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    /// <summary>The required <c>model</c>; null model, empty string and absence all get OpenAI's generic message.</summary>
    /// <summary>The opening every model endpoint shares: the body must be a JSON object with a string <c>model</c>.</summary>
    public static SimReply? ParseWithModel(SimRequest request, out JsonElement root, out string model)
    {
        root = default;
        model = "";
        if (request.ParseJsonObject() is { } invalid)
        {
            return invalid;
        }
        root = request.Root;
        return RequireModel(root, out model);
    }

    public static SimReply? RequireModel(JsonElement root, out string model)
    {
        model = "";
        if (!root.TryGetProperty("model", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return OpenAiErrors.MissingModel();
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            return OpenAiErrors.InvalidType("model", "a string", value);
        }

        model = value.GetString() ?? "";
        return model.Length == 0 ? OpenAiErrors.MissingModel() : null;
    }

    public static string? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static bool IsTrue(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    public static bool IsPresent(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>An optional positive integer; returns an error reply when present but not one.</summary>
    public static SimReply? OptionalPositiveInt(JsonElement root, string name, int fallback, out int result)
    {
        result = fallback;
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out result))
        {
            return OpenAiErrors.InvalidType(name, "an integer", value);
        }

        return result < 1
            ? OpenAiErrors.InvalidRequest($"Invalid '{name}': integer below minimum value. Expected a value >= 1, but got {result} instead.", name, "integer_below_min_value")
            : null;
    }

    /// <summary>Text of a message <c>content</c>: a string, or the text parts of a part array joined with a space.</summary>
    public static string ContentText(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString() ?? "";
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        var texts = new List<string>();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.String)
            {
                texts.Add(part.GetString() ?? "");
            }
            else if (part.ValueKind == JsonValueKind.Object
                && part.TryGetProperty("text", out var text)
                && text.ValueKind == JsonValueKind.String
                && (!part.TryGetProperty("type", out var type) || type.ValueEquals("text") || type.ValueEquals("input_text")))
            {
                texts.Add(text.GetString() ?? "");
            }
        }

        return string.Join(' ', texts);
    }
}
