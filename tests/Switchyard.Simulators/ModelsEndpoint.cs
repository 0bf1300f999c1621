using System.Text.Json;

namespace Switchyard.Simulators;

/// <summary><c>GET …/models</c> and <c>GET …/models/{id}</c>; every model id is served, so retrieval never fails.</summary>
internal static class ModelsEndpoint
{
    private const long Created = 1_700_000_000;

    private static readonly string[] s_ids =
    [
        "gpt-4o", "gpt-4o-mini", "gpt-4.1-mini", "gpt-3.5-turbo-instruct", "text-embedding-3-small",
        "text-embedding-3-large", "omni-moderation-latest", "dall-e-3", "tts-1", "whisper-1", "rerank-v1",
    ];

    public static SimReply List(SimRequest request) => SimReply.Json(JsonOut.Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        foreach (var id in s_ids)
        {
            WriteModel(w, id, request.Options.Name);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }));

    public static SimReply Retrieve(SimRequest request, string id) => SimReply.Json(JsonOut.Build(w => WriteModel(w, id, request.Options.Name)));

    private static void WriteModel(Utf8JsonWriter w, string id, string owner)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", "model");
        w.WriteNumber("created", Created);
        w.WriteString("owned_by", owner);
        w.WriteEndObject();
    }
}
