using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Switchyard.Core.Providers.Anthropic;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Google;

/// <summary>
/// Claude on Vertex AI: the Messages format with the model in the URL (<c>:rawPredict</c> / <c>:streamRawPredict</c>),
/// <c>anthropic_version: vertex-2023-10-16</c> in the body instead of a header, and the Vertex bearer token.
/// </summary>
public sealed class VertexAnthropicDialect(VertexAdapter vertex) : IChatDialect
{
    public const string VertexVersion = "vertex-2023-10-16";

    public async ValueTask<HttpRequestMessage> CreateRequestAsync(ChatCall call, CancellationToken ct)
    {
        var model = call.Model ?? throw new TranslationException("model is required");
        if (model.StartsWith("anthropic.", StringComparison.OrdinalIgnoreCase))
        {
            model = model["anthropic.".Length..];
        }
        var body = AnthropicMessagesCodec.ToMessagesRequest(call.Body, includeModel: false,
            [new KeyValuePair<string, JsonNode?>("anthropic_version", call.Field("anthropic_version") is { } v && v.StartsWith("vertex-", StringComparison.Ordinal) ? v : VertexVersion)]);
        var url = VertexAdapter.ModelUrl(call, "anthropic", model, call.Stream ? "streamRawPredict" : "rawPredict");
        var token = await vertex.AccessTokenAsync(call, ct).ConfigureAwait(false);
        var message = GoogleAdapter.JsonPost(url, body);
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if ((call.Field("anthropic_beta") ?? call.Request.Headers.Get("anthropic-beta")) is { Length: > 0 } beta)
        {
            message.Headers.TryAddWithoutValidation("anthropic-beta", beta);
        }
        return message;
    }

    public JsonObject ToChatCompletion(ReadOnlySpan<byte> body, ChatCall call) => AnthropicMessagesCodec.ToChatCompletion(body, call.Body, call.Created, call.Provider, call.StrictOpenAiCompliance);

    public IChatStreamDecoder CreateStreamDecoder(ChatCall call) => new AnthropicStreamDecoder(call.Body, call.Created, call.Provider, call.StrictOpenAiCompliance);

    public ProviderError ReadError(int status, ReadOnlySpan<byte> body, ChatCall call) => AnthropicMessagesCodec.ReadError(status, body);
}
