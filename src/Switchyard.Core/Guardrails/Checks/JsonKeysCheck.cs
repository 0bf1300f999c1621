using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.jsonKeys</c>: top-level keys of a JSON object found in the text satisfy <c>operator</c> over <c>keys</c>.</summary>
internal sealed class JsonKeysCheck(List<string> keys, KeyOperator op, bool not) : IGuardrailCheck
{
    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var keys = p.StringArray("keys", required: true);
        var op = KeyOperators.Read(p);
        var not = p.Bool("not");
        return keys is null || op is null ? null : new JsonKeysCheck(keys, op.Value, not);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var text = context.GetText(ev);
        if (text.Length == 0)
        {
            return ValueTask.FromResult(CheckOutcome.Failed("Missing text to analyze", new JsonObject
            {
                ["explanation"] = "An error occurred while processing JSON: Missing text to analyze",
                ["operator"] = op.Name(),
                ["requiredKeys"] = CheckData.Strings(keys),
                ["textExcerpt"] = "No text available",
            }));
        }
        var candidates = JsonExtraction.Candidates(text, spansOnlyWithoutFences: false);
        if (candidates.Count == 0)
        {
            // Nothing to judge: fails, and with `not` passes (no forbidden key can be present).
            var noneVerdict = CheckData.Apply(false, not);
            return ValueTask.FromResult(new CheckOutcome(noneVerdict, new JsonObject
            {
                ["explanation"] = "No valid JSON found in the text.",
                ["requiredKeys"] = CheckData.Strings(keys),
                ["operator"] = op.Name(),
                ["not"] = not,
                ["textExcerpt"] = CheckData.Excerpt(text),
            }));
        }

        JsonNode? bestJson = null;
        List<string> bestPresent = [];
        List<string> bestMissing = keys;
        var bestVerdict = false;
        foreach (var candidate in candidates)
        {
            var parsed = JsonExtraction.TryParse(candidate);
            if (parsed is null) continue;
            var obj = parsed as JsonObject;
            var present = keys.Where(k => obj is not null && obj.ContainsKey(k)).ToList();
            var missing = keys.Where(k => obj is null || !obj.ContainsKey(k)).ToList();
            var current = op.Judge(present.Count, missing.Count);
            if (current || present.Count > bestPresent.Count)
            {
                bestJson = parsed;
                bestPresent = present;
                bestMissing = missing;
                bestVerdict = current;
            }
            if (current) break;
        }

        var verdict = CheckData.Apply(bestVerdict, not);
        var data = new JsonObject
        {
            ["matchedJson"] = bestJson?.DeepClone(),
            ["verdict"] = verdict,
            ["not"] = not,
            ["explanation"] = Explain(bestPresent, bestMissing, bestVerdict) + (not ? (verdict ? " Inverted by 'not': passed." : " Inverted by 'not': failed.") : ""),
            ["presentKeys"] = CheckData.Strings(bestPresent),
            ["missingKeys"] = CheckData.Strings(bestMissing),
            ["operator"] = op.Name(),
            ["textExcerpt"] = CheckData.Excerpt(text),
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }

    private string Explain(List<string> present, List<string> missing, bool verdict)
    {
        var presentList = present.Count > 0 ? $"Found keys: [{string.Join(", ", present)}]" : "No matching keys found";
        var missingList = missing.Count > 0 ? $"Missing keys: [{string.Join(", ", missing)}]" : "No missing keys";
        return op switch
        {
            KeyOperator.Any => verdict ? $"Successfully found at least one required key. {presentList}." : $"Failed to find any required keys. {missingList}.",
            KeyOperator.All => verdict ? $"Successfully found all required keys. {presentList}." : $"Failed to find all required keys. {missingList}.",
            _ => verdict ? $"Successfully verified no required keys are present. {missingList}." : $"Found some keys that should not be present. {presentList}.",
        };
    }
}
