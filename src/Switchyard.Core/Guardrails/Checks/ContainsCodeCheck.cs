using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.containsCode</c>: a fenced code block tagged with a language of <c>format</c> is present.</summary>
internal sealed partial class ContainsCodeCheck(string format, bool not) : IGuardrailCheck
{
    /// <summary>The formats Portkey's manifest offers.</summary>
    private static readonly string[] Formats =
    [
        "SQL", "Python", "TypeScript", "JavaScript", "Java", "C#", "C++", "C", "Ruby", "PHP", "Swift", "Kotlin", "Go", "Rust",
        "Scala", "R", "Perl", "Shell", "HTML", "CSS", "XML", "JSON", "YAML", "Markdown", "Dockerfile",
    ];

    /// <summary>Fence tags Portkey maps to a format name; any other tag is compared as written (lower case).</summary>
    private static readonly Dictionary<string, string> Languages = new(StringComparer.Ordinal)
    {
        ["sql"] = "SQL", ["py"] = "Python", ["python"] = "Python", ["gyp"] = "Python", ["ts"] = "TypeScript", ["tsx"] = "TypeScript",
        ["typescript"] = "TypeScript", ["js"] = "JavaScript", ["jsx"] = "JavaScript", ["javascript"] = "JavaScript", ["java"] = "Java",
        ["cs"] = "C#", ["cpp"] = "C++", ["c"] = "C", ["rb"] = "Ruby", ["php"] = "PHP", ["swift"] = "Swift", ["kt"] = "Kotlin",
        ["go"] = "Go", ["rs"] = "Rust", ["scala"] = "Scala", ["r"] = "R", ["pl"] = "Perl", ["sh"] = "Shell", ["html"] = "HTML",
        ["css"] = "CSS", ["xml"] = "XML", ["json"] = "JSON", ["yml"] = "YAML", ["md"] = "Markdown", ["dockerfile"] = "Dockerfile",
    };

    public static IGuardrailCheck? Create(CheckParameters p)
    {
        var format = p.Choice("format", required: true, Formats);
        var not = p.Bool("not");
        return format is null ? null : new ContainsCodeCheck(format, not);
    }

    public ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var text = context.GetText(ev);
        if (text.Length == 0)
        {
            return ValueTask.FromResult(CheckOutcome.Failed("No text content to analyze", new JsonObject
            {
                ["explanation"] = "Error while checking for code blocks: No text content to analyze",
                ["searchedFormat"] = format,
                ["not"] = not,
                ["textExcerpt"] = "No text available",
            }));
        }
        var matches = CodeBlock().Matches(text);
        if (matches.Count == 0)
        {
            return ValueTask.FromResult(new CheckOutcome(not, new JsonObject
            {
                ["explanation"] = "No code blocks found in the text",
                ["searchedFormat"] = format,
                ["not"] = not,
                ["foundFormats"] = new JsonArray(),
                ["textExcerpt"] = CheckData.Excerpt(text),
            }));
        }
        var found = matches.Select(m =>
        {
            var tag = m.Groups[1].Value.ToLowerInvariant();
            return Languages.TryGetValue(tag, out var name) ? name : tag;
        }).ToList();
        var verdict = CheckData.Apply(found.Contains(format), not);
        var data = new JsonObject
        {
            ["explanation"] = CheckData.Explain(verdict, not,
                $"Found code block(s) in {format} format",
                $"No code blocks in {format} format found as expected",
                $"No code blocks in {format} format found",
                $"Found code block(s) in {format} format when none were expected"),
            ["searchedFormat"] = format,
            ["not"] = not,
            ["foundFormats"] = CheckData.Strings(found),
            ["textExcerpt"] = CheckData.Excerpt(text),
        };
        return ValueTask.FromResult(new CheckOutcome(verdict, data));
    }

    [GeneratedRegex(@"```(\w+)\n[\s\S]*?\n```", RegexOptions.None, 1000)]
    private static partial Regex CodeBlock();
}
