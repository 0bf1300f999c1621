using System.Globalization;
using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.modelRules</c>: the allowed models come from metadata-keyed rules (union of every match), else <c>defaults</c>.</summary>
internal sealed class ModelRulesCheck(List<string> defaults, Dictionary<string, Dictionary<string, List<string>>> metadataRules, bool not) : IGuardrailCheck
{
    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var rules = p.Object("rules", required: true);
        var not = p.Bool("not");
        if (rules is null) return null;
        var defaults = new List<string>();
        var metadata = new Dictionary<string, Dictionary<string, List<string>>>(StringComparer.Ordinal);
        if (rules["defaults"] is { } defaultsNode)
        {
            if (defaultsNode is JsonArray a && a.All(m => m is JsonValue v && v.TryGetValue<string>(out _)))
                defaults.AddRange(a.Select(m => m!.GetValue<string>()));
            else p.Error("rules.defaults", "'rules.defaults' must be an array of model names");
        }
        if (rules["metadata"] is { } metadataNode)
        {
            if (metadataNode is not JsonObject byKey) p.Error("rules.metadata", "'rules.metadata' must be an object of metadata keys");
            else
            {
                foreach (var (key, mapping) in byKey)
                {
                    if (mapping is not JsonObject byValue)
                    {
                        p.Error($"rules.metadata.{key}", "each metadata rule must map values to arrays of model names");
                        continue;
                    }
                    var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
                    foreach (var (value, models) in byValue)
                    {
                        if (models is JsonArray list && list.All(m => m is JsonValue v && v.TryGetValue<string>(out _)))
                            values[value] = [.. list.Select(m => m!.GetValue<string>())];
                        else p.Error($"rules.metadata.{key}.{value}", "must be an array of model names");
                    }
                    metadata[key] = values;
                }
            }
        }
        if (!p.Ok) return null;
        if (defaults.Count == 0 && metadata.Count == 0)
        {
            p.Error("rules", "'rules' must give 'defaults' or 'metadata' models");
            return null;
        }
        return new ModelRulesCheck(defaults, metadata, not);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var model = ContentLocator.ChatText(context.RequestJson["model"]);
        if (string.IsNullOrEmpty(model)) return ValueTask.FromResult(Error("Missing model in request"));

        var allowed = new List<string>();
        var matchedRules = new List<string>();
        foreach (var (key, mapping) in metadataRules)
        {
            if (!context.Metadata.TryGetPropertyValue(key, out var requestValue) || requestValue is null) continue;
            var requestValues = requestValue is JsonArray arr ? arr.Select(Stringify) : [Stringify(requestValue)];
            foreach (var value in requestValues)
            {
                if (!mapping.TryGetValue(value, out var models)) continue;
                matchedRules.Add($"{key}:{value}");
                foreach (var m in models)
                {
                    if (m.Length > 0 && !allowed.Contains(m)) allowed.Add(m);
                }
            }
        }
        var usingDefaults = false;
        if (allowed.Count == 0)
        {
            allowed = defaults;
            usingDefaults = true;
        }
        if (allowed.Count == 0) return ValueTask.FromResult(Error("No allowed models resolved from rules"));

        var verdict = CheckData.Apply(allowed.Contains(model), not);
        string explanation;
        if (verdict)
        {
            explanation = not ? $"Model \"{model}\" is not permitted by rules (blocked list)." : $"Model \"{model}\" is allowed by rules.";
            if (matchedRules.Count > 0) explanation += $" (matched rules: {string.Join(", ", matchedRules)})";
            else if (usingDefaults) explanation += " (using default models)";
        }
        else
        {
            explanation = not ? $"Model \"{model}\" is permitted by rules (in blocked list)." : $"Model \"{model}\" is not allowed by rules.";
        }
        return ValueTask.FromResult(new CheckOutcome(verdict, new JsonObject { ["explanation"] = explanation }));
    }

    /// <summary>JavaScript's String(value) for metadata values (strings as they are, numbers and booleans as text).</summary>
    private static string Stringify(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
        JsonValue v when v.TryGetValue<double>(out var d) => d.ToString(CultureInfo.InvariantCulture),
        null => "null",
        _ => node.ToJsonString(),
    };

    private static CheckOutcome Error(string message) => CheckOutcome.Failed(message, new JsonObject
    {
        ["explanation"] = $"An error occurred while checking model rules: {message}",
    });
}
