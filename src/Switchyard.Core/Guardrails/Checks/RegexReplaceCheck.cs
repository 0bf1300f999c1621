using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.regexReplace</c>: replaces every match in each text part with <c>redactText</c>; fails only with <c>failOnDetection</c>.</summary>
internal sealed class RegexReplaceCheck(Regex regex, string pattern, string redactText, bool failOnDetection) : IGuardrailCheck
{
    public bool MayTransform => true;

    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var rule = p.String("rule", required: true);
        var redact = p.String("redactText", required: false, allowEmpty: true);
        var failOnDetection = p.Bool("failOnDetection");
        if (rule is null) return null;
        string body = rule;
        var options = RegexOptions.None;
        // Portkey accepts a JavaScript literal, /pattern/flags; a plain string is the pattern itself.
        var literal = System.Text.RegularExpressions.Regex.Match(rule, "^/(.+?)/([a-z]*)$", RegexOptions.Singleline);
        if (literal.Success)
        {
            body = literal.Groups[1].Value;
            foreach (var flag in literal.Groups[2].Value)
            {
                switch (flag)
                {
                    case 'i': options |= RegexOptions.IgnoreCase; break;
                    case 'm': options |= RegexOptions.Multiline; break;
                    case 's': options |= RegexOptions.Singleline; break;
                    case 'g' or 'u' or 'y' or 'd': break;
                    default:
                        p.Error("rule", $"Invalid regex flags: {literal.Groups[2].Value}");
                        return null;
                }
            }
        }
        var regex = p.Regex("rule", body, options);
        // An empty redactText falls back to the default, as `parameters.redactText || '[REDACTED]'` does in Portkey.
        return regex is null ? null : new RegexReplaceCheck(regex, rule, string.IsNullOrEmpty(redact) ? "[REDACTED]" : redact, failOnDetection);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var part = context.GetContentPart(ev);
        if (part.Content is null) return ValueTask.FromResult(Error("Missing text to match"));
        var hasMatches = false;
        var mapped = new List<string?>(part.Texts.Count);
        try
        {
            foreach (var text in part.Texts)
            {
                if (text.Length == 0)
                {
                    mapped.Add(null);
                    continue;
                }
                if (regex.IsMatch(text)) hasMatches = true;
                mapped.Add(regex.Replace(text, redactText));
            }
        }
        catch (RegexMatchTimeoutException)
        {
            return ValueTask.FromResult(Error("the regular expression took too long to match"));
        }
        JsonObject? transformed = hasMatches ? context.WithTexts(ev, mapped) : null;
        var verdict = !(failOnDetection && hasMatches);
        var data = new JsonObject
        {
            ["regexPattern"] = pattern,
            ["verdict"] = verdict,
            ["explanation"] = transformed is not null
                ? $"Pattern '{pattern}' matched and was replaced with '{redactText}'"
                : $"The regex pattern '{pattern}' did not match any text.",
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data, Transformed: transformed is not null)
        {
            TransformedRequest = ev == HookEvent.BeforeRequest ? transformed : null,
            TransformedResponse = ev == HookEvent.AfterRequest ? transformed : null,
        });
    }

    private CheckOutcome Error(string message) => CheckOutcome.Failed(message, new JsonObject
    {
        ["explanation"] = $"An error occurred while processing the regex: {message}",
        ["regexPattern"] = pattern,
    }) with { Verdict = true };
}
