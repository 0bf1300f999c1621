using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.endsWith</c>: the text ends with <c>suffix</c> (a trailing period after it is allowed).</summary>
internal sealed class EndsWithCheck(string suffix, bool not) : IGuardrailCheck
{
    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var suffix = p.String("suffix", required: true);
        var not = p.Bool("not");
        return suffix is null || !p.Ok ? null : new EndsWithCheck(suffix, not);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var text = context.GetText(ev);
        if (text.Length == 0)
        {
            return ValueTask.FromResult(CheckOutcome.Failed("Missing text to analyze", new JsonObject
            {
                ["explanation"] = "An error occurred while checking suffix: Missing text to analyze",
                ["suffix"] = suffix,
                ["not"] = not,
                ["textExcerpt"] = "No text available",
            }));
        }
        var withPeriod = text.EndsWith(suffix + ".", StringComparison.Ordinal);
        var ends = text.EndsWith(suffix, StringComparison.Ordinal) || withPeriod;
        var verdict = CheckData.Apply(ends, not);
        var data = new JsonObject
        {
            ["suffix"] = suffix,
            ["not"] = not,
            ["verdict"] = verdict,
            ["explanation"] = CheckData.Explain(verdict, not,
                $"The text ends with \"{suffix}\"{(withPeriod ? " (including trailing period)" : "")}.",
                $"The text does not end with \"{suffix}\" as expected.",
                $"The text does not end with \"{suffix}\".",
                $"The text ends with \"{suffix}\" when it should not."),
            ["textExcerpt"] = CheckData.Excerpt(text),
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }
}
