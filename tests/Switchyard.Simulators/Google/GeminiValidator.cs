using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Switchyard.Simulators.Google;

/// <summary>A request rejected the way the Gemini API rejects it: HTTP status, message and Google status name.</summary>
public sealed class GeminiRejection(int status, string message, string statusName = "INVALID_ARGUMENT") : Exception(message)
{
    public int Status { get; } = status;

    public string StatusName { get; } = statusName;
}

/// <summary>
/// Validates a <c>GenerateContentRequest</c> like the real API: proto-JSON field names (camelCase or snake_case),
/// unknown fields → "Invalid JSON payload received. Unknown name …", roles, parts, function-call turn order,
/// the OpenAPI-subset Schema of function parameters and generationConfig ranges.
/// </summary>
internal static partial class GeminiValidator
{
    private static readonly string[] TopLevel = ["contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings", "cachedContent", "labels", "model"];
    private static readonly string[] ContentFields = ["role", "parts"];
    private static readonly string[] PartFields = ["text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode", "codeExecutionResult", "thought", "thoughtSignature", "videoMetadata", "partMetadata", "mediaResolution"];
    private static readonly string[] DataFields = ["text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode", "codeExecutionResult"];
    private static readonly string[] ToolFields = ["functionDeclarations", "googleSearch", "googleSearchRetrieval", "codeExecution", "urlContext", "retrieval", "computerUse", "fileSearch", "googleMaps"];
    private static readonly string[] DeclarationFields = ["name", "description", "parameters", "parametersJsonSchema", "response", "responseJsonSchema", "behavior"];
    private static readonly string[] SchemaFields = ["type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum"];
    private static readonly string[] SchemaTypes = ["TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"];
    private static readonly string[] GenerationFields = ["stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities", "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty", "frequencyPenalty", "responseLogprobs", "logprobs", "enableEnhancedCivicAnswers", "speechConfig", "thinkingConfig", "imageConfig", "mediaResolution"];
    private static readonly string[] ThinkingFields = ["thinkingBudget", "includeThoughts", "thinkingLevel"];
    private static readonly string[] MimeTypes = ["text/plain", "application/json", "text/x.enum"];

    public static void Validate(JsonObject body)
    {
        Fields(body, TopLevel, null);
        var contents = Get(body, "contents") as JsonArray;
        if (contents is null || contents.Count == 0)
        {
            throw Bad("* GenerateContentRequest.contents: contents is not specified\n");
        }
        JsonObject? previous = null;
        for (var i = 0; i < contents.Count; i++)
        {
            var at = $"contents[{i}]";
            if (contents[i] is not JsonObject content)
            {
                throw Bad($"Invalid value at '{at}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), {contents[i]?.ToJsonString() ?? "null"}");
            }
            Fields(content, ContentFields, at);
            var role = Str(Get(content, "role")) ?? "";
            if (role is not ("user" or "model"))
            {
                throw Bad("Please use a valid role: user, model.");
            }
            var parts = Parts(content, at);
            var responses = parts.Count(p => Get(p, "functionResponse") is not null);
            if (responses > 0)
            {
                var calls = previous is null ? 0 : ((JsonArray)Get(previous, "parts")!).Count(p => Get((JsonObject)p!, "functionCall") is not null);
                if (calls == 0)
                {
                    throw Bad("Please ensure that function response turn comes immediately after a function call turn.");
                }
                if (calls != responses)
                {
                    throw Bad("Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.");
                }
            }
            if (parts.Any(p => Get(p, "functionCall") is not null) && role != "model")
            {
                throw Bad("Please ensure that function call turns come from the model.");
            }
            previous = content;
        }
        if (Get(body, "systemInstruction") is { } system)
        {
            if (system is not JsonObject s)
            {
                throw Bad("Invalid value at 'system_instruction' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content)");
            }
            Fields(s, ContentFields, "system_instruction");
            Parts(s, "system_instruction");
        }
        if (Get(body, "tools") is JsonArray tools)
        {
            for (var t = 0; t < tools.Count; t++)
            {
                Tool(tools[t] as JsonObject ?? throw Bad($"Invalid value at 'tools[{t}]'"), $"tools[{t}]");
            }
        }
        if (Get(body, "toolConfig") is JsonObject toolConfig)
        {
            ToolConfig(toolConfig);
        }
        if (Get(body, "generationConfig") is JsonObject config)
        {
            Generation(config);
        }
    }

    private static List<JsonObject> Parts(JsonObject content, string at)
    {
        if (Get(content, "parts") is not JsonArray { Count: > 0 } parts)
        {
            throw Bad($"* GenerateContentRequest.{at}.parts: contents.parts must not be empty.\n");
        }
        var result = new List<JsonObject>();
        for (var j = 0; j < parts.Count; j++)
        {
            var pat = $"{at}.parts[{j}]";
            if (parts[j] is not JsonObject part)
            {
                throw Bad($"Invalid value at '{pat}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Part)");
            }
            Fields(part, PartFields, pat);
            var data = DataFields.Count(f => Get(part, f) is not null);
            if (data == 0)
            {
                throw Bad($"* GenerateContentRequest.{pat}.data: required oneof field 'data' must have one initialized field\n");
            }
            if (data > 1)
            {
                throw Bad($"Invalid value at '{pat}': oneof field 'data' is already set. Cannot set '{DataFields.Where(f => Get(part, f) is not null).Skip(1).First()}'");
            }
            if (Get(part, "inlineData") is JsonObject inline)
            {
                Fields(inline, ["mimeType", "data", "displayName"], pat + ".inline_data");
                var b64 = Str(Get(inline, "data")) ?? "";
                if (!IsBase64(b64))
                {
                    throw Bad($"Invalid value at '{pat}.inline_data.data' (TYPE_BYTES), Base64 decoding failed for \"{(b64.Length > 20 ? b64[..20] : b64)}\"");
                }
                if (string.IsNullOrEmpty(Str(Get(inline, "mimeType"))))
                {
                    throw Bad($"* GenerateContentRequest.{pat}.inline_data.mime_type: required field is not specified\n");
                }
            }
            if (Get(part, "fileData") is JsonObject file)
            {
                Fields(file, ["mimeType", "fileUri", "displayName"], pat + ".file_data");
                if (string.IsNullOrEmpty(Str(Get(file, "fileUri"))))
                {
                    throw Bad($"* GenerateContentRequest.{pat}.file_data.file_uri: required field is not specified\n");
                }
            }
            if (Get(part, "functionCall") is JsonObject call)
            {
                Fields(call, ["id", "name", "args"], pat + ".function_call");
                if (string.IsNullOrEmpty(Str(Get(call, "name"))))
                {
                    throw Bad($"* GenerateContentRequest.{pat}.function_call.name: Name cannot be empty.\n");
                }
                if (Get(call, "args") is { } args and not JsonObject)
                {
                    throw Bad($"Invalid value at '{pat}.function_call.args' (type.googleapis.com/google.protobuf.Struct), {args.ToJsonString()}");
                }
            }
            if (Get(part, "functionResponse") is JsonObject response)
            {
                Fields(response, ["id", "name", "response", "parts", "willContinue", "scheduling"], pat + ".function_response");
                if (string.IsNullOrEmpty(Str(Get(response, "name"))))
                {
                    throw Bad($"* GenerateContentRequest.{pat}.function_response.name: Name cannot be empty.\n");
                }
                if (Get(response, "response") is not JsonObject)
                {
                    throw Bad($"Invalid value at '{pat}.function_response.response' (type.googleapis.com/google.protobuf.Struct)");
                }
            }
            result.Add(part);
        }
        return result;
    }

    private static void Tool(JsonObject tool, string at)
    {
        Fields(tool, ToolFields, at);
        if (Get(tool, "functionDeclarations") is not JsonArray declarations)
        {
            return;
        }
        for (var d = 0; d < declarations.Count; d++)
        {
            var dat = $"{at}.function_declarations[{d}]";
            var declaration = declarations[d] as JsonObject ?? throw Bad($"Invalid value at '{dat}'");
            Fields(declaration, DeclarationFields, dat);
            var name = Str(Get(declaration, "name")) ?? "";
            if (!FunctionName().IsMatch(name))
            {
                throw Bad($"* GenerateContentRequest.{dat}.name: Invalid function name. Must start with a letter or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots and dashes, with a maximum length of 64.\n");
            }
            if (Get(declaration, "parameters") is { } parameters)
            {
                if (Get(declaration, "parametersJsonSchema") is not null)
                {
                    throw Bad($"* GenerateContentRequest.{dat}: parameters and parameters_json_schema cannot both be set.\n");
                }
                var schema = parameters as JsonObject ?? throw Bad($"Invalid value at '{dat}.parameters' (type.googleapis.com/google.ai.generativelanguage.v1beta.Schema)");
                Schema(schema, dat + ".parameters");
                if (string.Equals(Str(Get(schema, "type")), "object", StringComparison.OrdinalIgnoreCase) && Get(schema, "properties") is not JsonObject { Count: > 0 })
                {
                    throw Bad($"* GenerateContentRequest.{dat}.parameters.properties: should be non-empty for OBJECT type\n");
                }
            }
        }
    }

    /// <summary>Gemini's Schema message: the OpenAPI subset. JSON-Schema-only keys (additionalProperties, $schema, $ref, const, oneOf …) are unknown fields.</summary>
    internal static void Schema(JsonObject schema, string at)
    {
        Fields(schema, SchemaFields, at);
        if (Get(schema, "type") is { } type)
        {
            if (type is JsonArray)
            {
                throw Bad($"Invalid JSON payload received. Proto field is not repeating, cannot start list. at '{at}.type'");
            }
            var value = Str(type) ?? "";
            if (!SchemaTypes.Contains(value.ToUpperInvariant()))
            {
                throw Bad($"Invalid value at '{at}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), \"{value}\"");
            }
        }
        if (Get(schema, "enum") is JsonArray values && values.Any(v => v is not JsonValue s || s.GetValueKind() != JsonValueKind.String))
        {
            throw Bad($"Invalid value at '{at}.enum[0]' (TYPE_STRING)");
        }
        if (Get(schema, "properties") is JsonObject properties)
        {
            var i = 0;
            foreach (var (_, value) in properties)
            {
                Schema(value as JsonObject ?? throw Bad($"Invalid value at '{at}.properties[{i}].value'"), $"{at}.properties[{i}].value");
                i++;
            }
        }
        if (Get(schema, "items") is { } items)
        {
            Schema(items as JsonObject ?? throw Bad($"Invalid value at '{at}.items'"), at + ".items");
        }
        if (Get(schema, "anyOf") is JsonArray anyOf)
        {
            for (var i = 0; i < anyOf.Count; i++)
            {
                Schema(anyOf[i] as JsonObject ?? throw Bad($"Invalid value at '{at}.any_of[{i}]'"), $"{at}.any_of[{i}]");
            }
        }
    }

    private static void ToolConfig(JsonObject config)
    {
        Fields(config, ["functionCallingConfig", "retrievalConfig"], "tool_config");
        if (Get(config, "functionCallingConfig") is not JsonObject calling)
        {
            return;
        }
        Fields(calling, ["mode", "allowedFunctionNames"], "tool_config.function_calling_config");
        var mode = Str(Get(calling, "mode")) ?? "MODE_UNSPECIFIED";
        if (mode is not ("MODE_UNSPECIFIED" or "AUTO" or "ANY" or "NONE" or "VALIDATED"))
        {
            throw Bad($"Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), \"{mode}\"");
        }
        if (Get(calling, "allowedFunctionNames") is JsonArray { Count: > 0 } && mode is not ("ANY" or "VALIDATED"))
        {
            throw Bad("* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: allowed_function_names is only allowed when mode is ANY.\n");
        }
    }

    private static void Generation(JsonObject config)
    {
        const string At = "generation_config";
        Fields(config, GenerationFields, At);
        Range(config, "temperature", 0, 2);
        Range(config, "topP", 0, 1);
        if (Get(config, "topK") is { } topK && (Num(topK) is not { } k || k < 1 || k != Math.Floor(k)))
        {
            throw Bad($"* GenerateContentRequest.{At}.top_k: top_k must be a positive integer.\n");
        }
        if (Get(config, "maxOutputTokens") is { } max && (Num(max) is not { } m || m < 1 || m != Math.Floor(m)))
        {
            throw Bad($"* GenerateContentRequest.{At}.max_output_tokens: max_output_tokens must be positive.\n");
        }
        if (Get(config, "candidateCount") is { } n && (Num(n) is not { } c || c < 1 || c > 8))
        {
            throw Bad($"* GenerateContentRequest.{At}.candidate_count: candidate_count must be between 1 and 8.\n");
        }
        if (Get(config, "stopSequences") is { } stops)
        {
            if (stops is not JsonArray list || list.Any(s => Str(s) is null))
            {
                throw Bad($"Invalid value at '{At}.stop_sequences' (TYPE_STRING)");
            }
            if (list.Count > 5)
            {
                throw Bad($"* GenerateContentRequest.{At}.stop_sequences: Stop sequences must have at most 5 elements.\n");
            }
        }
        var mime = Str(Get(config, "responseMimeType"));
        if (mime is not null && !MimeTypes.Contains(mime))
        {
            throw Bad($"* GenerateContentRequest.{At}.response_mime_type: allowed mimetypes are `text/plain`, `application/json`, `application/xml`, `application/yaml` and `text/x.enum`.\n");
        }
        var responseSchema = Get(config, "responseSchema");
        var jsonSchema = Get(config, "responseJsonSchema");
        if (responseSchema is not null && jsonSchema is not null)
        {
            throw Bad($"* GenerateContentRequest.{At}: response_schema and response_json_schema cannot both be set.\n");
        }
        if ((responseSchema is not null || jsonSchema is not null) && mime is not ("application/json" or "text/x.enum"))
        {
            throw Bad($"* GenerateContentRequest.{At}.response_mime_type: response_mime_type must be application/json or text/x.enum when a response schema is set.\n");
        }
        if (responseSchema is JsonObject schema)
        {
            Schema(schema, At + ".response_schema");
        }
        if (Get(config, "thinkingConfig") is { } thinking)
        {
            var t = thinking as JsonObject ?? throw Bad($"Invalid value at '{At}.thinking_config'");
            Fields(t, ThinkingFields, At + ".thinking_config");
            if (Get(t, "thinkingBudget") is { } budget && (Num(budget) is not { } b || b != Math.Floor(b) || b < -1 || b > 32768))
            {
                throw Bad($"* GenerateContentRequest.{At}.thinking_config.thinking_budget: The thinking budget must be -1 (dynamic) or between 0 and 32768.\n");
            }
            if (Get(t, "includeThoughts") is { } include && (include is not JsonValue v || v.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)))
            {
                throw Bad($"Invalid value at '{At}.thinking_config.include_thoughts' (TYPE_BOOL), {include.ToJsonString()}");
            }
        }
    }

    private static void Range(JsonObject config, string field, double min, double max)
    {
        if (Get(config, field) is { } node && (Num(node) is not { } v || v < min || v > max))
        {
            throw Bad($"* GenerateContentRequest.generation_config.{Snake(field)}: {Snake(field)} must be in the range [{min}, {max}].\n");
        }
    }

    /// <summary>Every key must be a known field in camelCase or its snake_case spelling.</summary>
    private static void Fields(JsonObject node, string[] known, string? at)
    {
        foreach (var (key, _) in node)
        {
            if (!known.Contains(key) && !known.Any(k => Snake(k) == key))
            {
                throw Bad(at is null
                    ? $"Invalid JSON payload received. Unknown name \"{key}\": Cannot find field."
                    : $"Invalid JSON payload received. Unknown name \"{key}\" at '{at}': Cannot find field.");
            }
        }
    }

    /// <summary>A field by its camelCase name or its snake_case spelling.</summary>
    internal static JsonNode? Get(JsonObject node, string camel) => node[camel] ?? node[Snake(camel)];

    internal static string Snake(string camel)
    {
        var sb = new StringBuilder();
        foreach (var c in camel)
        {
            if (char.IsUpper(c))
            {
                sb.Append('_').Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    internal static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static double? Num(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<double>() : null;

    private static bool IsBase64(string s)
    {
        var buffer = new byte[(s.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(s, buffer, out _);
    }

    private static GeminiRejection Bad(string message) => new(400, message);

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$")]
    private static partial Regex FunctionName();
}
