using System.Text.RegularExpressions;

namespace Switchyard.Core.Usage.Pricing;

/// <summary>The names a model may be priced under, most specific first: the name as sent, then with the decorations providers add.</summary>
/// <remarks>
/// Lookups try each candidate in turn, so an entry for an exact snapshot (<c>gpt-4o-2024-05-13</c>, priced apart) wins over its
/// family, and undecorated entries still price the decorated names: Bedrock's
/// <c>us.anthropic.claude-3-5-sonnet-20240620-v1:0</c> reduces to <c>anthropic.claude-3-5-sonnet-20240620</c>, then to
/// <c>claude-3-5-sonnet-20240620</c> and <c>claude-3-5-sonnet</c>; a router's <c>openai/gpt-4o</c> to <c>gpt-4o</c>; Vertex's
/// <c>claude-sonnet-4@20250514</c> to <c>claude-sonnet-4</c>.
/// </remarks>
internal static partial class ModelNames
{
    // Bedrock's cross-region inference profiles.
    private static readonly string[] RegionPrefixes = ["us-gov.", "global.", "apac.", "us.", "eu.", "ap.", "jp.", "au.", "ca.", "in."];

    // Bedrock's model-vendor prefixes; a fixed list, because a dot is also part of ordinary names (gpt-4.1, deepseek-v3.2).
    private static readonly string[] VendorPrefixes =
    [
        "anthropic.", "meta.", "mistral.", "amazon.", "cohere.", "ai21.", "deepseek.", "openai.", "qwen.", "writer.", "moonshot.",
        "moonshotai.", "minimax.", "zai.", "xai.", "google.", "nvidia.",
    ];

    public static List<string> Candidates(string model)
    {
        var names = new List<string>(6);
        var name = model.Trim().ToLowerInvariant();
        Add(names, name);
        var slash = name.LastIndexOf('/');
        if (slash >= 0 && slash < name.Length - 1)
        {
            name = name[(slash + 1)..];
            Add(names, name);
        }
        foreach (var prefix in RegionPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length)
            {
                name = name[prefix.Length..];
                Add(names, name);
                break;
            }
        }
        var unversioned = BedrockVersion().Replace(name, "");
        if (unversioned.Length > 0 && unversioned != name)
        {
            name = unversioned;
            Add(names, name);
        }
        foreach (var prefix in VendorPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length)
            {
                name = name[prefix.Length..];
                Add(names, name);
                break;
            }
        }
        var undated = DateSuffix().Replace(name, "");
        if (undated.Length > 0 && undated != name) Add(names, undated);
        return names;
    }

    private static void Add(List<string> names, string name)
    {
        if (!names.Contains(name)) names.Add(name);
    }

    // "-v1:0", "-v2", ":0" at the end of a Bedrock model id.
    [GeneratedRegex(@"(-v\d+(:\d+)?|:\d+)$", RegexOptions.CultureInvariant)]
    private static partial Regex BedrockVersion();

    // "-2024-08-06" (OpenAI), "-20241022" (Anthropic), "@20241022" (Vertex), "@latest"/"-latest" (aliases of the newest snapshot).
    [GeneratedRegex(@"(-\d{4}-\d{2}-\d{2}|[-@]\d{8}|[-@]latest)$", RegexOptions.CultureInvariant)]
    private static partial Regex DateSuffix();
}
