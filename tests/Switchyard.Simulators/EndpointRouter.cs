namespace Switchyard.Simulators;

/// <summary>
/// Picks the endpoint by path suffix, so a gateway may put any prefix in front
/// (<c>/v1/chat/completions</c>, <c>/openai/v1/chat/completions</c>, …).
/// </summary>
internal static class EndpointRouter
{
    // Longest suffixes first: "/chat/completions" must win over "/completions".
    private static readonly (string Method, string Suffix, Func<SimRequest, SimReply> Handler)[] s_routes =
    [
        ("POST", "/chat/completions", ChatCompletionsEndpoint.Handle),
        ("POST", "/completions", CompletionsEndpoint.Handle),
        ("POST", "/embeddings", EmbeddingsEndpoint.Handle),
        ("POST", "/moderations", ModerationsEndpoint.Handle),
        ("POST", "/images/generations", ImagesEndpoint.Handle),
        ("POST", "/audio/speech", SpeechEndpoint.Handle),
        ("POST", "/audio/transcriptions", TranscriptionsEndpoint.Transcribe),
        ("POST", "/audio/translations", TranscriptionsEndpoint.Translate),
        ("POST", "/rerank", RerankEndpoint.Handle),
        ("POST", "/responses", ResponsesEndpoint.Handle),
        ("GET", "/models", ModelsEndpoint.List),
    ];

    /// <summary>The endpoint for this request, or null (the caller answers 404 like OpenAI's "Invalid URL").</summary>
    public static Func<SimRequest, SimReply>? Resolve(string method, string path)
    {
        var trimmed = path.Length > 1 ? path.TrimEnd('/') : path;
        foreach (var (routeMethod, suffix, handler) in s_routes)
        {
            if (trimmed.EndsWith(suffix, StringComparison.Ordinal))
            {
                return string.Equals(method, routeMethod, StringComparison.OrdinalIgnoreCase) ? handler : null;
            }
        }

        var models = trimmed.LastIndexOf("/models/", StringComparison.Ordinal);
        if (models >= 0 && HttpMethodsEqual(method, "GET"))
        {
            var id = Uri.UnescapeDataString(trimmed[(models + "/models/".Length)..]);
            return request => ModelsEndpoint.Retrieve(request, id);
        }

        return null;
    }

    /// <summary>Endpoints that take multipart uploads instead of JSON.</summary>
    public static bool IsMultipart(string path) =>
        path.TrimEnd('/').EndsWith("/audio/transcriptions", StringComparison.Ordinal)
        || path.TrimEnd('/').EndsWith("/audio/translations", StringComparison.Ordinal);

    private static bool HttpMethodsEqual(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
