using System.Text.Json;

namespace Switchyard.Simulators;

/// <summary><c>POST …/moderations</c>: flags a category when the input contains one of its trigger words.</summary>
internal static class ModerationsEndpoint
{
    private static readonly (string Category, string[] Triggers)[] s_categories =
    [
        ("harassment", ["idiot"]),
        ("harassment/threatening", ["threaten"]),
        ("hate", ["hate"]),
        ("hate/threatening", []),
        ("illicit", ["drugs"]),
        ("illicit/violent", []),
        ("self-harm", ["self-harm"]),
        ("self-harm/intent", []),
        ("self-harm/instructions", []),
        ("sexual", ["nsfw"]),
        ("sexual/minors", []),
        ("violence", ["kill", "murder"]),
        ("violence/graphic", ["gore"]),
    ];

    public static SimReply Handle(SimRequest request)
    {
        if (request.ParseJsonObject() is { } invalid)
        {
            return invalid;
        }

        var root = request.Root;
        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
        {
            return OpenAiErrors.MissingParameter("input");
        }

        var texts = new List<string>();
        if (input.ValueKind == JsonValueKind.String)
        {
            texts.Add(input.GetString() ?? "");
        }
        else if (input.ValueKind == JsonValueKind.Array && input.GetArrayLength() > 0
            && input[0].ValueKind == JsonValueKind.Object)
        {
            // Multi-modal input is one item made of parts; only the text parts can trigger.
            texts.Add(RequestFields.ContentText(input));
        }
        else if (input.ValueKind == JsonValueKind.Array)
        {
            texts.AddRange(input.EnumerateArray().Select(i => i.ValueKind == JsonValueKind.String ? i.GetString() ?? "" : ""));
        }
        else
        {
            return OpenAiErrors.InvalidType("input", "a string or an array", input);
        }

        var model = RequestFields.OptionalString(root, "model") ?? "omni-moderation-latest";
        return SimReply.Json(JsonOut.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("id", ResponseIds.New("modr-"));
            w.WriteString("model", model);
            w.WriteStartArray("results");
            foreach (var text in texts)
            {
                WriteResult(w, text);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }));
    }

    private static void WriteResult(Utf8JsonWriter w, string text)
    {
        var hits = s_categories
            .Select(c => c.Triggers.Any(t => text.Contains(t, StringComparison.OrdinalIgnoreCase)))
            .ToArray();
        w.WriteStartObject();
        w.WriteBoolean("flagged", hits.Any(h => h));
        w.WriteStartObject("categories");
        for (var i = 0; i < s_categories.Length; i++)
        {
            w.WriteBoolean(s_categories[i].Category, hits[i]);
        }

        w.WriteEndObject();
        w.WriteStartObject("category_scores");
        for (var i = 0; i < s_categories.Length; i++)
        {
            w.WriteNumber(s_categories[i].Category, hits[i] ? 0.97 : 0.0001 * (i + 1));
        }

        w.WriteEndObject();
        w.WriteStartObject("category_applied_input_types");
        foreach (var (category, _) in s_categories)
        {
            w.WriteStartArray(category);
            w.WriteStringValue("text");
            w.WriteEndArray();
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }
}
