using System.Text.Json.Nodes;

namespace Switchyard.Core.Providers.Google;

/// <summary>
/// Turns a JSON Schema (as OpenAI tools and response formats carry it) into the OpenAPI-subset <c>Schema</c> that
/// Gemini takes in <c>functionDeclarations[].parameters</c> and <c>generationConfig.responseSchema</c>.
/// </summary>
/// <remarks>
/// Gemini answers 400 "Unknown name … Cannot find field" for any key outside its Schema message, so keys such as
/// <c>additionalProperties</c>, <c>$schema</c>, <c>strict</c> and <c>const</c> are removed or rewritten:
/// <c>type: [T, "null"]</c> → <c>type: T, nullable: true</c>; <c>const</c> → one-value <c>enum</c>;
/// <c>oneOf</c> → <c>anyOf</c>; local <c>$ref</c>s into <c>$defs</c>/<c>definitions</c> are inlined.
/// </remarks>
public static class GeminiSchema
{
    /// <summary>The fields of Gemini's Schema message (camelCase).</summary>
    public static readonly IReadOnlySet<string> AllowedKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties", "required",
        "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf", "propertyOrdering",
        "default", "items", "minimum", "maximum",
    };

    private const int MaxDepth = 32;

    public static JsonObject Sanitize(JsonObject schema) => Sanitize(schema, schema, 0);

    private static JsonObject Sanitize(JsonObject node, JsonObject root, int depth)
    {
        if (depth > MaxDepth)
        {
            return new JsonObject();
        }
        if (node["$ref"] is JsonValue refValue && refValue.TryGetValue<string>(out var reference) && Resolve(root, reference) is { } target)
        {
            var merged = (JsonObject)target.DeepClone();
            foreach (var (key, value) in node)
            {
                if (key != "$ref" && !merged.ContainsKey(key))
                {
                    merged[key] = value?.DeepClone();
                }
            }
            return Sanitize(merged, root, depth + 1);
        }
        var result = new JsonObject();
        foreach (var (key, value) in node)
        {
            switch (key)
            {
                case "type" when value is JsonArray types:
                    var nonNull = types.Select(t => t?.ToString()).Where(t => t is not null and not "null").ToList();
                    if (nonNull.Count > 0)
                    {
                        result["type"] = nonNull[0];
                    }
                    if (nonNull.Count < types.Count)
                    {
                        result["nullable"] = true;
                    }
                    break;
                case "const":
                    result["enum"] = new JsonArray(value?.DeepClone());
                    break;
                case "properties" when value is JsonObject props:
                    var outProps = new JsonObject();
                    foreach (var (name, prop) in props)
                    {
                        outProps[name] = prop is JsonObject p ? Sanitize(p, root, depth + 1) : new JsonObject();
                    }
                    result["properties"] = outProps;
                    break;
                case "items" when value is JsonObject items:
                    result["items"] = Sanitize(items, root, depth + 1);
                    break;
                case "anyOf" or "oneOf" when value is JsonArray options:
                    var outOptions = new JsonArray();
                    var nullable = false;
                    foreach (var option in options)
                    {
                        if (option is JsonObject o)
                        {
                            if (o["type"] is JsonValue t && t.ToString() == "null")
                            {
                                nullable = true;
                                continue;
                            }
                            outOptions.Add((JsonNode)Sanitize(o, root, depth + 1));
                        }
                    }
                    if (outOptions.Count == 1 && outOptions[0] is JsonObject single)
                    {
                        foreach (var (k, v) in single)
                        {
                            result[k] = v?.DeepClone();
                        }
                    }
                    else if (outOptions.Count > 0)
                    {
                        result["anyOf"] = outOptions;
                    }
                    if (nullable)
                    {
                        result["nullable"] = true;
                    }
                    break;
                case "enum" when value is JsonArray values:
                    // Gemini's enum is a list of strings.
                    result["enum"] = new JsonArray([.. values.Where(v => v is not null).Select(v => (JsonNode)JsonValue.Create(v!.ToString())!)]);
                    break;
                default:
                    if (AllowedKeys.Contains(key))
                    {
                        result[key] = value?.DeepClone();
                    }
                    break;
            }
        }
        return result;
    }

    private static JsonObject? Resolve(JsonObject root, string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            return null;
        }
        JsonNode? node = root;
        foreach (var segment in reference[2..].Split('/'))
        {
            node = node is JsonObject o ? o[segment.Replace("~1", "/").Replace("~0", "~")] : null;
        }
        return node as JsonObject;
    }

    /// <summary>A JSON Schema for <c>responseJsonSchema</c>: full JSON Schema is accepted there, only <c>$schema</c> and <c>strict</c> are dropped.</summary>
    public static JsonObject ForResponseJsonSchema(JsonObject schema)
    {
        var copy = (JsonObject)schema.DeepClone();
        copy.Remove("$schema");
        copy.Remove("strict");
        return copy;
    }
}
