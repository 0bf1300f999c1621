using System.Text;

namespace Switchyard.Core.Guardrails.Pii;

/// <summary>Finds and redacts personal data and secrets in text with the built-in detectors, no external service.</summary>
public sealed class PiiDetector
{
    /// <summary>A detector for every category.</summary>
    public static readonly PiiDetector AllCategories = new(null);

    private readonly PiiPattern[] _patterns;

    /// <param name="categories">The categories to look for; null means all.</param>
    public PiiDetector(IEnumerable<PiiCategory>? categories)
    {
        var wanted = categories is null ? [.. PiiCategories.All] : new HashSet<PiiCategory>(categories);
        Categories = wanted;
        _patterns = [.. PiiPatterns.All.Where(p => wanted.Contains(p.Category))];
    }

    public IReadOnlySet<PiiCategory> Categories { get; }

    /// <summary>Every finding in the text, sorted and non-overlapping.</summary>
    public IReadOnlyList<PiiFinding> Find(string text) => Resolve(Scan(text, 0), 0, text.Length);

    /// <summary>The text with each finding replaced by its placeholder (<c>[EMAIL]</c>, <c>[SECRET]</c>, …).</summary>
    public string Redact(string text) => Redact(text, out _);

    public string Redact(string text, out IReadOnlyList<PiiFinding> findings)
    {
        var resolved = Resolve(Scan(text, 0), 0, text.Length);
        findings = resolved;
        return resolved.Count == 0 ? text : Apply(text, 0, text.Length, resolved);
    }

    /// <summary>Every pattern match from <paramref name="startAt"/> on (look-behinds still see earlier text), valid or not.</summary>
    /// <remarks>Invalid matches matter to the streaming redactor: a pattern's scan resumes after them, so they shape what follows.</remarks>
    internal List<RawMatch> Scan(string text, int startAt)
    {
        var raw = new List<RawMatch>();
        foreach (var pattern in _patterns)
        {
            var match = pattern.Regex.Match(text, startAt);
            while (match.Success)
            {
                var valid = pattern.Validate is null || pattern.Validate(match.Value);
                raw.Add(new RawMatch(pattern, match.Index, match.Index + match.Length, valid));
                match = match.NextMatch();
            }
        }
        return raw;
    }

    /// <summary>The valid matches inside <c>[from, to)</c>, overlaps resolved: earliest start first, then priority, then length.</summary>
    internal static List<PiiFinding> Resolve(List<RawMatch> raw, int from, int to)
    {
        var candidates = raw.Where(r => r.Valid && r.Start >= from && r.End <= to)
            .OrderBy(r => r.Start).ThenBy(r => r.Pattern.Priority).ThenByDescending(r => r.End).ToList();
        var result = new List<PiiFinding>();
        var lastEnd = int.MinValue;
        foreach (var c in candidates)
        {
            if (c.Start < lastEnd) continue;
            result.Add(new PiiFinding(c.Pattern.Category, c.Pattern.Kind, c.Start, c.End - c.Start));
            lastEnd = c.End;
        }
        return result;
    }

    /// <summary>The text of <c>[from, to)</c> with the findings (all inside that range) replaced.</summary>
    internal static string Apply(string text, int from, int to, IReadOnlyList<PiiFinding> findings)
    {
        var sb = new StringBuilder(to - from);
        var at = from;
        foreach (var f in findings)
        {
            sb.Append(text, at, f.Start - at);
            sb.Append(f.Category.Placeholder());
            at = f.End;
        }
        sb.Append(text, at, to - at);
        return sb.ToString();
    }
}

/// <summary>One pattern match before validation and overlap resolution.</summary>
internal readonly record struct RawMatch(PiiPattern Pattern, int Start, int End, bool Valid);
