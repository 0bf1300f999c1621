using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.regexMatch</c>: passes when the pattern matches the current text (or, with <c>not</c>, when it does not).</summary>
internal sealed class RegexMatchCheck(Regex regex, string pattern, bool not) : IGuardrailCheck
{
    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var rule = p.String("rule", required: true);
        var not = p.Bool("not");
        var regex = rule is null ? null : p.Regex("rule", rule);
        return regex is null ? null : new RegexMatchCheck(regex, rule!, not);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var text = context.GetText(ev);
        if (text.Length == 0) return ValueTask.FromResult(Error("Missing text to match", text));
        Match match;
        try
        {
            match = regex.Match(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return ValueTask.FromResult(Error("the regular expression took too long to match", text));
        }
        var verdict = CheckData.Apply(match.Success, not);
        JsonNode? details = null;
        if (match.Success)
        {
            var groups = new JsonObject();
            var captures = new JsonArray();
            for (var i = 1; i < match.Groups.Count; i++)
            {
                var group = match.Groups[i];
                JsonNode? value = group.Success ? JsonValue.Create(group.Value) : null;
                captures.Add(value?.DeepClone());
                if (!int.TryParse(group.Name, out _)) groups[group.Name] = value;
            }
            details = new JsonObject
            {
                ["matchedText"] = match.Value,
                ["index"] = match.Index,
                ["groups"] = groups,
                ["captures"] = captures,
            };
        }
        var data = new JsonObject
        {
            ["regexPattern"] = pattern,
            ["not"] = not,
            ["verdict"] = verdict,
            ["explanation"] = CheckData.Explain(verdict, not,
                $"The regex pattern '{pattern}' successfully matched the text.",
                $"The regex pattern '{pattern}' did not match the text as expected.",
                $"The regex pattern '{pattern}' did not match the text.",
                $"The regex pattern '{pattern}' matched the text when it should not have."),
            ["matchDetails"] = details,
            ["textExcerpt"] = CheckData.Excerpt(text),
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }

    private CheckOutcome Error(string message, string text) => CheckOutcome.Failed(message, new JsonObject
    {
        ["explanation"] = $"An error occurred while processing the regex: {message}",
        ["regexPattern"] = pattern,
        ["not"] = not,
        ["textExcerpt"] = CheckData.ErrorExcerpt(text),
    });
}
