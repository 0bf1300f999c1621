using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.alluppercase</c> / <c>default.alllowercase</c>: every ASCII letter of the text has the given case.</summary>
internal sealed class LetterCaseCheck(bool upper, bool not) : IGuardrailCheck
{
    public static IGuardrailCheck? CreateUpper(CheckParameters p) => Create(p, upper: true);

    public static IGuardrailCheck? CreateLower(CheckParameters p) => Create(p, upper: false);

    private static LetterCaseCheck? Create(CheckParameters p, bool upper)
    {
        var not = p.Bool("not");
        return p.Ok ? new LetterCaseCheck(upper, not) : null;
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var text = context.GetText(ev);
        var which = upper ? "uppercase" : "lowercase";
        if (text.Length == 0)
        {
            return ValueTask.FromResult(CheckOutcome.Failed("Missing text to analyze", new JsonObject
            {
                ["explanation"] = $"An error occurred while checking {which}: Missing text to analyze",
                ["not"] = not,
                ["textExcerpt"] = "No text available",
            }));
        }
        // Portkey compares only the letters a-z/A-Z; digits, punctuation and non-ASCII letters are ignored.
        var holds = upper ? !text.Any(char.IsAsciiLetterLower) : !text.Any(char.IsAsciiLetterUpper);
        var verdict = CheckData.Apply(holds, not);
        var other = upper ? "lowercase" : "uppercase";
        var data = new JsonObject
        {
            ["verdict"] = verdict,
            ["not"] = not,
            ["explanation"] = CheckData.Explain(verdict, not,
                $"All alphabetic characters in the text are {which}.",
                $"The text contains {other} characters as expected.",
                $"The text contains {other} characters.",
                $"All alphabetic characters in the text are {which} when they should not be."),
            ["textExcerpt"] = CheckData.Excerpt(text),
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }
}
