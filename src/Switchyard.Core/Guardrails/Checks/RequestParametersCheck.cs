using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.requestParametersCheck</c>: policy on the request's tools (types, function names) and top-level parameters.</summary>
internal sealed class RequestParametersCheck : IGuardrailCheck
{
    private readonly List<string> _blockedTypes;
    private readonly List<string> _allowedTypes;
    private readonly List<string> _blockedNames;
    private readonly List<string> _allowedNames;
    private readonly List<string> _blockedKeys;
    private readonly List<string> _allowedKeys;
    private readonly Dictionary<string, (List<JsonNode> Blocked, List<JsonNode> Allowed)> _values;
    private readonly JsonObject _configEcho;

    private RequestParametersCheck(List<string> blockedTypes, List<string> allowedTypes, List<string> blockedNames, List<string> allowedNames,
        List<string> blockedKeys, List<string> allowedKeys, Dictionary<string, (List<JsonNode>, List<JsonNode>)> values, JsonObject configEcho)
    {
        _blockedTypes = blockedTypes;
        _allowedTypes = allowedTypes;
        _blockedNames = blockedNames;
        _allowedNames = allowedNames;
        _blockedKeys = blockedKeys;
        _allowedKeys = allowedKeys;
        _values = values;
        _configEcho = configEcho;
    }

    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var tools = p.Object("tools", required: false) ?? [];
        var @params = p.Object("params", required: false) ?? [];
        var toolReader = new CheckParameters(p.CheckId, tools, p.PathOf("tools"), p.Event, p.Services, Sink(p));
        var paramReader = new CheckParameters(p.CheckId, @params, p.PathOf("params"), p.Event, p.Services, Sink(p));
        var blockedTypes = toolReader.StringArray("blockedTypes", false, allowEmpty: true) ?? [];
        var allowedTypes = toolReader.StringArray("allowedTypes", false, allowEmpty: true) ?? [];
        var blockedNames = toolReader.StringArray("blockedFunctionNames", false, allowEmpty: true) ?? [];
        var allowedNames = toolReader.StringArray("allowedFunctionNames", false, allowEmpty: true) ?? [];
        var blockedKeys = paramReader.StringArray("blockedKeys", false, allowEmpty: true) ?? [];
        var allowedKeys = paramReader.StringArray("allowedKeys", false, allowEmpty: true) ?? [];
        Conflict(toolReader, "allowedTypes", blockedTypes, allowedTypes);
        Conflict(toolReader, "allowedFunctionNames", blockedNames, allowedNames);
        Conflict(paramReader, "allowedKeys", blockedKeys, allowedKeys);
        var values = new Dictionary<string, (List<JsonNode>, List<JsonNode>)>(StringComparer.Ordinal);
        var valuesObj = paramReader.Object("values", required: false);
        if (valuesObj is not null)
        {
            foreach (var (name, config) in valuesObj)
            {
                if (config is not JsonObject c)
                {
                    p.Error($"params.values.{name}", "must be an object with blockedValues and/or allowedValues");
                    continue;
                }
                var blocked = Primitives(p, $"params.values.{name}.blockedValues", c["blockedValues"]);
                var allowed = Primitives(p, $"params.values.{name}.allowedValues", c["allowedValues"]);
                var both = blocked.Where(b => allowed.Any(a => Same(a, b))).Select(b => b.ToJsonString()).ToList();
                if (both.Count > 0) p.Error($"params.values.{name}", $"values in both blockedValues and allowedValues: {string.Join(", ", both)}");
                values[name] = (blocked, allowed);
            }
        }
        if (!p.Ok) return null;
        if (blockedTypes.Count + allowedTypes.Count + blockedNames.Count + allowedNames.Count + blockedKeys.Count + allowedKeys.Count == 0 && values.Count == 0)
        {
            p.Error("", "give at least one rule under 'tools' or 'params'");
            return null;
        }
        var echo = new JsonObject
        {
            ["tools"] = tools.Count > 0 ? tools.DeepClone() : null,
            ["params"] = @params.Count > 0 ? @params.DeepClone() : null,
        };
        return new RequestParametersCheck(blockedTypes, allowedTypes, blockedNames, allowedNames, blockedKeys, allowedKeys, values, echo);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        if (ev != HookEvent.BeforeRequest)
        {
            return ValueTask.FromResult(new CheckOutcome(true, null, new CheckError("Error", "This plugin only works for before_request_hooks")));
        }
        var json = context.RequestJson;
        var blockedTools = new JsonArray();
        var toolsInRequest = new JsonArray();
        var hasToolRules = _blockedTypes.Count + _allowedTypes.Count + _blockedNames.Count + _allowedNames.Count > 0;
        var explanations = new List<string>();
        if (hasToolRules && json["tools"] is JsonArray tools)
        {
            var toolTexts = new List<string>();
            foreach (var tool in tools)
            {
                var obj = tool as JsonObject;
                var type = ContentLocator.ChatText(obj?["type"]) ?? "unknown";
                var name = ContentLocator.ChatText((obj?["function"] as JsonObject)?["name"]) ?? ContentLocator.ChatText(obj?["name"]) ?? type;
                toolsInRequest.Add((JsonNode)new JsonObject { ["type"] = type, ["name"] = name });
                var reasons = new List<string>();
                if (_blockedTypes.Contains(type)) reasons.Add("type_blocked");
                if (_blockedNames.Contains(name)) reasons.Add("name_blocked");
                if (_allowedTypes.Count > 0 && !_allowedTypes.Contains(type)) reasons.Add("type_not_allowed");
                if (_allowedNames.Count > 0 && !_allowedNames.Contains(name)) reasons.Add("name_not_allowed");
                if (reasons.Count == 0) continue;
                blockedTools.Add((JsonNode)new JsonObject { ["type"] = type, ["name"] = name, ["reasons"] = CheckData.Strings(reasons) });
                toolTexts.Add($"\"{name}\" ({string.Join(", ", reasons.Select(Describe))})");
            }
            if (toolTexts.Count > 0) explanations.Add($"Blocked tools: {string.Join("; ", toolTexts)}");
        }

        var blockedParams = new JsonArray();
        if (_blockedKeys.Count + _allowedKeys.Count > 0 || _values.Count > 0)
        {
            var paramTexts = new List<string>();
            foreach (var (key, value) in json)
            {
                var reasons = new List<string>();
                if (_blockedKeys.Contains(key)) reasons.Add("key_blocked");
                if (_allowedKeys.Count > 0 && !_allowedKeys.Contains(key)) reasons.Add("key_not_allowed");
                if (_values.TryGetValue(key, out var rule))
                {
                    if (rule.Blocked.Any(b => Same(b, value))) reasons.Add("value_blocked");
                    if (rule.Allowed.Count > 0 && !rule.Allowed.Any(a => Same(a, value))) reasons.Add("value_not_allowed");
                }
                if (reasons.Count == 0) continue;
                blockedParams.Add((JsonNode)new JsonObject { ["param"] = key, ["value"] = value?.DeepClone(), ["reasons"] = CheckData.Strings(reasons) });
                paramTexts.Add($"\"{key}\"={value?.ToJsonString() ?? "null"} ({string.Join(", ", reasons.Select(Describe))})");
            }
            if (paramTexts.Count > 0) explanations.Add($"Blocked params: {string.Join("; ", paramTexts)}");
        }

        var verdict = blockedTools.Count == 0 && blockedParams.Count == 0;
        var data = new JsonObject();
        if (toolsInRequest.Count > 0) data["toolsInRequest"] = toolsInRequest;
        if (blockedTools.Count > 0) data["blockedToolsFound"] = blockedTools;
        if (blockedParams.Count > 0) data["blockedParamsFound"] = blockedParams;
        data["explanation"] = explanations.Count > 0 ? string.Join(". ", explanations) : "All checks passed.";
        data["config"] = _configEcho.DeepClone();
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }

    private static string Describe(string reason) => reason switch
    {
        "type_blocked" => "type is blocked",
        "name_blocked" => "function name is blocked",
        "type_not_allowed" => "type is not in allowed list",
        "name_not_allowed" => "function name is not in allowed list",
        "key_blocked" => "key is blocked",
        "key_not_allowed" => "key is not in allowed list",
        "value_blocked" => "value is blocked",
        _ => "value is not in allowed list",
    };

    /// <summary>JavaScript's strict equality for the primitives a rule can list (objects never match).</summary>
    private static bool Same(JsonNode? a, JsonNode? b)
    {
        if (a is not JsonValue va || b is not JsonValue vb) return false;
        if (va.TryGetValue<string>(out var sa)) return vb.TryGetValue<string>(out var sb) && sa == sb;
        if (va.TryGetValue<bool>(out var ba)) return vb.TryGetValue<bool>(out var bb) && ba == bb;
        if (va.TryGetValue<double>(out var da)) return vb.TryGetValue<double>(out var db) && da == db;
        return false;
    }

    private static List<JsonNode> Primitives(CheckParameters p, string name, JsonNode? node)
    {
        if (node is null) return [];
        if (node is JsonArray a && a.All(e => e is JsonValue))
        {
            return [.. a.Select(e => e!.DeepClone())];
        }
        p.Error(name, "must be an array of strings, numbers or booleans");
        return [];
    }

    private static void Conflict(CheckParameters p, string name, List<string> blocked, List<string> allowed)
    {
        var both = blocked.Intersect(allowed).ToList();
        if (both.Count > 0) p.Error(name, $"entries in both the blocked and the allowed list: {string.Join(", ", both)}");
    }

    // Nested readers report into the same error list as the outer one.
    private static List<Switchyard.Core.Configs.ConfigError> Sink(CheckParameters p) => p.ErrorSink;
}
