using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.requiredMetadataKeys</c>: keys present in <c>x-portkey-metadata</c> satisfy <c>operator</c>.</summary>
internal sealed class RequiredMetadataKeysCheck(List<string> keys, KeyOperator op, bool not) : IGuardrailCheck
{
    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var keys = p.StringArray("metadataKeys", required: true);
        var op = KeyOperators.Read(p);
        var not = p.Bool("not");
        return keys is null || op is null || !p.Ok ? null : new RequiredMetadataKeysCheck(keys, op.Value, not);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        if (ev != HookEvent.BeforeRequest)
        {
            return ValueTask.FromResult(new CheckOutcome(true, null, new CheckError("Error", "This plugin only works for before_request_hooks")));
        }
        var found = keys.Where(k => context.Metadata.ContainsKey(k)).ToList();
        var missing = keys.Where(k => !context.Metadata.ContainsKey(k)).ToList();
        var raw = op.Judge(found.Count, missing.Count);
        var verdict = CheckData.Apply(raw, not);
        var explanation = $"Check {(verdict ? "passed" : "failed")} for '{op.Name()}' metadata keys{(not ? " (inverted by 'not')" : "")}.";
        explanation += (op, raw) switch
        {
            (KeyOperator.Any, true) => " At least one metadata key was found.",
            (KeyOperator.All, true) => " All metadata keys were found.",
            (KeyOperator.None, true) => " No metadata keys were found.",
            (KeyOperator.Any, false) => " No metadata keys were found.",
            (KeyOperator.All, false) => " Some metadata keys were missing.",
            _ => " Some metadata keys were found.",
        };
        var data = new JsonObject
        {
            ["explanation"] = explanation,
            ["missing_metadata_keys"] = CheckData.Strings(missing),
            ["found_metadata_keys"] = CheckData.Strings(found),
            ["operator"] = op.Name(),
            ["not"] = not,
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }
}
