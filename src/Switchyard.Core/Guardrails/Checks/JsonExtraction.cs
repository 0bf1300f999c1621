using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary>Finds JSON in model output the way Portkey does: fenced code blocks, and <c>{…}</c> spans.</summary>
internal static partial class JsonExtraction
{
    /// <summary>Candidate JSON texts: fenced blocks first; the lazy <c>{…}</c> spans only when there are none (jsonSchema) or always (jsonKeys).</summary>
    public static List<string> Candidates(string text, bool spansOnlyWithoutFences)
    {
        var matches = new List<string>();
        foreach (Match m in Fence().Matches(text)) matches.Add(m.Groups[1].Value.Trim());
        if (!spansOnlyWithoutFences || matches.Count == 0)
        {
            foreach (Match m in Braces().Matches(text)) matches.Add(m.Value);
        }
        return matches;
    }

    public static JsonNode? TryParse(string candidate)
    {
        try
        {
            return JsonNode.Parse(candidate);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"```+(?:json)?\s*([\s\S]*?)```+", RegexOptions.None, 1000)]
    private static partial Regex Fence();

    [GeneratedRegex(@"{[\s\S]*?}", RegexOptions.None, 1000)]
    private static partial Regex Braces();
}
