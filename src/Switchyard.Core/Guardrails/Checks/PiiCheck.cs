using System.Text.Json.Nodes;
using Switchyard.Core.Guardrails.Pii;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.pii</c> (Switchyard's own): finds personal data and secrets, and by default redacts them in place.</summary>
/// <remarks>
/// Unlike Portkey's content-part checks it reads every text of the body by default (<c>scope: "all"</c>): a client
/// resends the whole conversation each turn, so redacting only the last message would still send earlier PII upstream.
/// Results never echo what was found, only categories and counts.
/// </remarks>
internal sealed class PiiCheck(PiiDetector detector, bool redact, bool failOnDetection, bool not, TextScope scope) : IGuardrailCheck
{
    public bool MayTransform => redact;

    /// <summary>The detector of a redacting check, for redacting a streamed answer as it passes; null when the check only detects.</summary>
    internal PiiDetector? StreamRedactor => redact && !not ? detector : null;

    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var names = p.StringArray("categories", required: false);
        var categories = new List<PiiCategory>();
        if (names is not null)
        {
            foreach (var name in names)
            {
                if (PiiCategories.TryParse(name, out var category)) categories.Add(category);
                else p.Error("categories", $"unknown PII category '{name}'; use {string.Join(", ", PiiCategories.All.Select(c => c.Name()))}");
            }
        }
        var redact = p.Bool("redact", true);
        var failOnDetection = p.Bool("failOnDetection");
        var not = p.Bool("not");
        var scope = p.Choice("scope", required: false, "all", "current") == "current" ? TextScope.Current : TextScope.All;
        if (!p.Ok) return null;
        return new PiiCheck(names is null ? PiiDetector.AllCategories : new PiiDetector(categories), redact, failOnDetection, not, scope);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var part = context.GetContentPart(ev, scope);
        var counts = new Dictionary<PiiCategory, int>();
        var redacted = new List<string?>(part.Texts.Count);
        var changed = false;
        foreach (var text in part.Texts)
        {
            if (text.Length == 0)
            {
                redacted.Add(null);
                continue;
            }
            var replaced = detector.Redact(text, out var findings);
            foreach (var f in findings) counts[f.Category] = counts.GetValueOrDefault(f.Category) + 1;
            if (findings.Count > 0) changed = true;
            redacted.Add(findings.Count > 0 ? replaced : null);
        }
        var found = counts.Count > 0;
        var baseVerdict = redact ? !(failOnDetection && found) : !found;
        var verdict = not ? !baseVerdict : baseVerdict;
        JsonObject? transformed = redact && changed ? context.WithTexts(ev, redacted, scope) : null;

        var excerptSource = string.Join('\n', part.Texts.Select((t, i) => redacted[i] ?? t).Where(t => t.Length > 0));
        var byCategory = new JsonObject();
        foreach (var (category, count) in counts.OrderBy(kv => kv.Key)) byCategory[category.Name()] = count;
        var total = counts.Values.Sum();
        var explanation = !found
            ? "No PII or secrets were found."
            : redact
                ? $"Found and redacted {total} item(s): {string.Join(", ", counts.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key.Name()} ({kv.Value})"))}."
                : $"Found {total} item(s): {string.Join(", ", counts.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key.Name()} ({kv.Value})"))}.";
        if (not) explanation += verdict ? " Passed because of 'not'." : " Failed because of 'not'.";
        var data = new JsonObject
        {
            ["verdict"] = verdict,
            ["not"] = not,
            ["detected"] = found,
            ["redacted"] = transformed is not null,
            ["categories"] = byCategory,
            ["explanation"] = explanation,
            ["textExcerpt"] = CheckData.Excerpt(excerptSource),
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data, Transformed: transformed is not null)
        {
            TransformedRequest = ev == HookEvent.BeforeRequest ? transformed : null,
            TransformedResponse = ev == HookEvent.AfterRequest ? transformed : null,
        });
    }
}
