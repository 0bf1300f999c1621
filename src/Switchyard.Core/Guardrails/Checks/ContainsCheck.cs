using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.contains</c>: case-sensitive substring test of <c>words</c> under <c>operator</c>.</summary>
internal sealed class ContainsCheck(List<string> words, KeyOperator op, bool not) : IGuardrailCheck
{
    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var words = p.StringArray("words", required: true);
        var op = KeyOperators.Read(p);
        var not = p.Bool("not");
        return words is null || op is null ? null : new ContainsCheck(words, op.Value, not);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var text = context.GetText(ev);
        var found = words.Where(w => text.Contains(w, StringComparison.Ordinal)).ToList();
        var missing = words.Where(w => !text.Contains(w, StringComparison.Ordinal)).ToList();
        var raw = op.Judge(found.Count, missing.Count);
        var verdict = CheckData.Apply(raw, not);
        var explanation = $"Check {(verdict ? "passed" : "failed")} for '{op.Name()}' words{(not ? " (inverted by 'not')" : "")}.";
        explanation += (op, raw) switch
        {
            (KeyOperator.Any, true) => " At least one word was found.",
            (KeyOperator.All, true) => " All words were found.",
            (KeyOperator.None, true) => " No words were found.",
            (KeyOperator.Any, false) => " No words were found.",
            (KeyOperator.All, false) => " Some words were missing.",
            _ => " Some words were found.",
        };
        var data = new JsonObject
        {
            ["explanation"] = explanation,
            ["foundWords"] = CheckData.Strings(found),
            ["missingWords"] = CheckData.Strings(missing),
            ["operator"] = op.Name(),
            ["not"] = not,
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }
}
