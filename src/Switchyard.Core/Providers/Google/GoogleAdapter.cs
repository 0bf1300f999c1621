using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Switchyard.Core.Requests;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Google;

/// <summary>
/// Google Gemini through AI Studio (<c>google</c>): <c>POST {base}/v1beta/models/{model}:generateContent</c> and
/// <c>:streamGenerateContent?alt=sse</c>, the API key in the <c>x-goog-api-key</c> header (never in the URL).
/// </summary>
public sealed class GoogleAdapter : IProviderAdapter, IChatDialect
{
    internal static readonly MediaTypeHeaderValue JsonType = new("application/json");

    public string Family => "google";

    public IChatDialect? Chat => this;

    /// <summary>Gemini speaks none of the client protocols: everything goes through canonical chat.</summary>
    public bool IsNative(EndpointKind endpoint, ResolvedTarget target) => false;

    public ValueTask<HttpRequestMessage> CreateRequestAsync(UpstreamCall call, CancellationToken ct) =>
        throw new NotSupportedException("Gemini has no native pass-through endpoints");

    public ValueTask<HttpRequestMessage> CreateRequestAsync(ChatCall call, CancellationToken ct)
    {
        var model = ModelName(call);
        var url = call.Target.BaseUrl.TrimEnd('/') + "/v1beta/models/" + Uri.EscapeDataString(model)
            + (call.Stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
        var message = JsonPost(url, GeminiRequest.Build(call.Body));
        // The Header auth scheme of the descriptor puts the key in x-goog-api-key.
        OpenAiCompatibleAdapter.AddAuthAndForwardedHeaders(message, call.Request, call.Target);
        return ValueTask.FromResult(message);
    }

    public JsonObject ToChatCompletion(ReadOnlySpan<byte> body, ChatCall call) => GeminiResponse.ToChatCompletion(body, call);

    public IChatStreamDecoder CreateStreamDecoder(ChatCall call) => new GeminiStreamDecoder(call);

    public ProviderError ReadError(int status, ReadOnlySpan<byte> body, ChatCall call) => GeminiResponse.ReadError(status, body);

    /// <summary>The model without a leading <c>models/</c>.</summary>
    internal static string ModelName(ChatCall call)
    {
        var model = call.Model;
        if (string.IsNullOrWhiteSpace(model))
        {
            throw new TranslationException("'model' is required");
        }
        return model.StartsWith("models/", StringComparison.Ordinal) ? model[7..] : model;
    }

    internal static HttpRequestMessage JsonPost(string url, JsonObject body)
    {
        var content = new ByteArrayContent(ChatJson.Serialize(body));
        content.Headers.ContentType = JsonType;
        return new HttpRequestMessage(HttpMethod.Post, url) { Content = content, Version = System.Net.HttpVersion.Version11 };
    }
}
