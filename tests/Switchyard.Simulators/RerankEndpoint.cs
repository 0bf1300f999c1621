using System.Text.Json;

namespace Switchyard.Simulators;

/// <summary>
/// <c>POST …/rerank</c> in the Cohere/Jina shape: documents scored by word overlap with the query,
/// with a small hash term so ties still order deterministically.
/// </summary>
internal static class RerankEndpoint
{
    public static SimReply Handle(SimRequest request)
    {
        if (request.ParseJsonObject() is { } invalid)
        {
            return invalid;
        }

        var root = request.Root;
        var query = RequestFields.OptionalString(root, "query");
        if (string.IsNullOrEmpty(query))
        {
            return OpenAiErrors.MissingParameter("query");
        }

        if (!root.TryGetProperty("documents", out var documents) || documents.ValueKind != JsonValueKind.Array || documents.GetArrayLength() == 0)
        {
            return OpenAiErrors.MissingParameter("documents");
        }

        var texts = documents.EnumerateArray().Select(DocumentText).ToList();
        if (RequestFields.OptionalPositiveInt(root, "top_n", texts.Count, out var topN) is { } badTopN)
        {
            return badTopN;
        }

        var returnDocuments = RequestFields.IsTrue(root, "return_documents");
        var model = RequestFields.OptionalString(root, "model") ?? "rerank-v1";
        var queryWords = Words(query);
        var ranked = texts
            .Select((text, index) => (Index: index, Text: text, Score: Score(queryWords, query, text)))
            .OrderByDescending(r => r.Score)
            .ThenBy(r => r.Index)
            .Take(topN)
            .ToList();
        var tokens = TextPieces.CountWords(query) + texts.Sum(TextPieces.CountWords);

        return SimReply.Json(JsonOut.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("id", ResponseIds.New("rerank-"));
            w.WriteString("model", model);
            w.WriteStartArray("results");
            foreach (var (index, text, score) in ranked)
            {
                w.WriteStartObject();
                w.WriteNumber("index", index);
                w.WriteNumber("relevance_score", score);
                if (returnDocuments)
                {
                    w.WriteStartObject("document");
                    w.WriteString("text", text);
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("usage");
            w.WriteNumber("total_tokens", tokens);
            w.WriteEndObject();
            w.WriteStartObject("meta");
            w.WriteStartObject("billed_units");
            w.WriteNumber("search_units", 1);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }));
    }

    private static string DocumentText(JsonElement document) => document.ValueKind switch
    {
        JsonValueKind.String => document.GetString() ?? "",
        JsonValueKind.Object => RequestFields.OptionalString(document, "text") ?? document.GetRawText(),
        _ => document.GetRawText(),
    };

    private static HashSet<string> Words(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => new string(w.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant())
            .Where(w => w.Length > 0)
            .ToHashSet();

    private static double Score(HashSet<string> queryWords, string query, string document)
    {
        var overlap = queryWords.Count == 0 ? 0 : (double)Words(document).Count(queryWords.Contains) / queryWords.Count;
        var jitter = (DeterministicVector.Fnv1a(query + "\n" + document) % 1000) / 100_000.0;
        return Math.Round((0.98 * overlap) + jitter, 6);
    }
}
