using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.characterCount</c>: the text length (UTF-16 code units, as JavaScript counts) lies in the range.</summary>
internal sealed class CharacterCountCheck(double min, double max, bool not) : IGuardrailCheck
{
    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var min = p.Number("minCharacters", 0, integer: true);
        var max = p.Number("maxCharacters", 9999999, integer: true);
        var not = p.Bool("not");
        if (!p.Ok) return null;
        if (min > max)
        {
            p.Error("minCharacters", "'minCharacters' must not be greater than 'maxCharacters'");
            return null;
        }
        return new CharacterCountCheck(min!.Value, max!.Value, not);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var text = context.GetText(ev);
        if (text.Length == 0)
        {
            return ValueTask.FromResult(CheckOutcome.Failed("Missing text to analyze", new JsonObject
            {
                ["explanation"] = "An error occurred while counting characters: Missing text to analyze",
                ["minCharacters"] = min,
                ["maxCharacters"] = max,
                ["not"] = not,
                ["textExcerpt"] = "No text available",
            }));
        }
        var count = text.Length;
        var inRange = count >= min && count <= max;
        var verdict = CheckData.Apply(inRange, not);
        var range = $"{SentenceCountCheck.N(min)}-{SentenceCountCheck.N(max)}";
        var data = new JsonObject
        {
            ["characterCount"] = count,
            ["minCharacters"] = min,
            ["maxCharacters"] = max,
            ["not"] = not,
            ["verdict"] = verdict,
            ["explanation"] = CheckData.Explain(verdict, not,
                $"The text contains {count} characters, which is within the specified range of {range} characters.",
                $"The text contains {count} characters, which is outside the specified range of {range} characters as expected.",
                $"The text contains {count} characters, which is outside the specified range of {range} characters.",
                $"The text contains {count} characters, which is within the specified range of {range} characters when it should not be."),
            ["textExcerpt"] = CheckData.Excerpt(text),
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }
}
