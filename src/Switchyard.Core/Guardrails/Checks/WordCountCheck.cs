using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.wordCount</c>: the number of whitespace-separated words lies in <c>[minWords, maxWords]</c>.</summary>
internal sealed partial class WordCountCheck(double min, double max, bool not) : IGuardrailCheck
{
    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var min = p.Number("minWords", 0, integer: true);
        var max = p.Number("maxWords", 99999, integer: true);
        var not = p.Bool("not");
        if (!p.Ok) return null;
        if (min > max)
        {
            p.Error("minWords", "'minWords' must not be greater than 'maxWords'");
            return null;
        }
        return new WordCountCheck(min!.Value, max!.Value, not);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var text = context.GetText(ev).Trim();
        if (text.Length == 0)
        {
            return ValueTask.FromResult(CheckOutcome.Failed("Missing text to analyze", new JsonObject
            {
                ["explanation"] = "An error occurred while processing word count: Missing text to analyze",
                ["minWords"] = min,
                ["maxWords"] = max,
                ["not"] = not,
                ["textExcerpt"] = "No text available",
            }));
        }
        var count = Whitespace().Split(text).Length;
        var inRange = count >= min && count <= max;
        var verdict = CheckData.Apply(inRange, not);
        var range = $"{SentenceCountCheck.N(min)}-{SentenceCountCheck.N(max)}";
        var data = new JsonObject
        {
            ["wordCount"] = count,
            ["minWords"] = min,
            ["maxWords"] = max,
            ["not"] = not,
            ["verdict"] = verdict,
            ["explanation"] = CheckData.Explain(verdict, not,
                $"The text contains {count} words, which is within the specified range of {range} words.",
                $"The text contains {count} words, which is outside the specified range of {range} words as expected.",
                $"The text contains {count} words, which is outside the specified range of {range} words.",
                $"The text contains {count} words, which is within the specified range of {range} words when it should not be."),
            ["textExcerpt"] = CheckData.Excerpt(text),
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
