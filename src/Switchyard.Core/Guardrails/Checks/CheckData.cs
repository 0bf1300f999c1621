using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary>Shared pieces of the <c>data</c> objects checks report (Portkey's field names).</summary>
internal static class CheckData
{
    /// <summary>Portkey's <c>textExcerpt</c>: the first 100 characters, with an ellipsis when cut.</summary>
    public static string Excerpt(string text) => text.Length > 100 ? text[..100] + "..." : text;

    /// <summary>The excerpt used in error data: <c>No text available</c> when there is no text.</summary>
    public static string ErrorExcerpt(string text) => text.Length == 0 ? "No text available" : Excerpt(text);

    public static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    /// <summary>Applies <c>not</c>: the check passes when the condition does not hold.</summary>
    public static bool Apply(bool condition, bool not) => not ? !condition : condition;

    /// <summary>Portkey's four-way explanation: passed/failed crossed with plain/inverted.</summary>
    public static string Explain(bool verdict, bool not, string pass, string passInverted, string fail, string failInverted) =>
        verdict ? (not ? passInverted : pass) : (not ? failInverted : fail);
}
