using System.Globalization;
using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.sentenceCount</c>: the number of sentence terminators (<c>. ! ?</c>) lies in <c>[minSentences, maxSentences]</c>.</summary>
internal sealed class SentenceCountCheck(double min, double max, bool not) : IGuardrailCheck
{
    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var min = p.Number("minSentences", 0);
        var max = p.Number("maxSentences", 99999);
        var not = p.Bool("not");
        if (!p.Ok) return null;
        if (min > max)
        {
            p.Error("minSentences", "'minSentences' must not be greater than 'maxSentences'");
            return null;
        }
        return new SentenceCountCheck(min!.Value, max!.Value, not);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        // An empty text is valid input with zero sentences, as in Portkey.
        var text = context.GetText(ev);
        // Portkey counts the pieces of text.split(/[.!?]/) minus one, i.e. the terminator characters.
        var count = text.Count(c => c is '.' or '!' or '?');
        var inRange = count >= min && count <= max;
        var verdict = CheckData.Apply(inRange, not);
        var range = $"{N(min)} to {N(max)}";
        var data = new JsonObject
        {
            ["sentenceCount"] = count,
            ["minCount"] = min,
            ["maxCount"] = max,
            ["not"] = not,
            ["verdict"] = verdict,
            ["explanation"] = CheckData.Explain(verdict, not,
                $"The sentence count ({count}) is within the specified range of {range}.",
                $"The sentence count ({count}) is outside the specified range of {range} as expected.",
                $"The sentence count ({count}) is outside the specified range of {range}.",
                $"The sentence count ({count}) is within the specified range of {range} when it should not be."),
            ["textExcerpt"] = CheckData.Excerpt(text),
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }

    internal static string N(double d) => d.ToString(CultureInfo.InvariantCulture);
}
