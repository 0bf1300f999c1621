using System.Text.Json.Nodes;

namespace Switchyard.Core.Translation;

/// <summary>
/// A provider's chat dialect: takes an OpenAI chat completion request, calls the provider in its own wire format,
/// and gives back OpenAI chat completions and chunks. The canonical format and its extensions are in SEAM.md.
/// </summary>
public interface IChatDialect
{
    /// <summary>Builds one attempt's upstream request (auth included). Throws <see cref="TranslationException"/> for a request the provider cannot take.</summary>
    ValueTask<HttpRequestMessage> CreateRequestAsync(ChatCall call, CancellationToken ct);

    /// <summary>Turns a successful non-streamed upstream body into a <c>chat.completion</c> object.</summary>
    JsonObject ToChatCompletion(ReadOnlySpan<byte> body, ChatCall call);

    /// <summary>A decoder for one streamed response.</summary>
    IChatStreamDecoder CreateStreamDecoder(ChatCall call);

    /// <summary>Reads an upstream error body (any status ≥ 400) into a normalised error; never throws.</summary>
    ProviderError ReadError(int status, ReadOnlySpan<byte> body, ChatCall call);

    /// <summary>As <see cref="ReadError(int, ReadOnlySpan{byte}, ChatCall)"/>, for providers that put the error's type in a header (Bedrock's <c>x-amzn-ErrorType</c>).</summary>
    ProviderError ReadError(int status, ReadOnlySpan<byte> body, System.Net.Http.Headers.HttpResponseHeaders headers, ChatCall call) => ReadError(status, body, call);
}

/// <summary>Turns one upstream stream, fed in arbitrary slices, into OpenAI <c>chat.completion.chunk</c> objects.</summary>
/// <remarks>
/// Contract: chunks carry <c>id</c>, <c>object</c>, <c>created</c>, <c>model</c> and <c>choices</c>; the first has
/// <c>delta.role = "assistant"</c>; tool calls arrive as <c>delta.tool_calls[{index, id, type, function{name, arguments}}]</c>
/// with argument fragments in later chunks; the last choice chunk carries <c>finish_reason</c>; then exactly one
/// usage chunk (<c>choices: []</c>, <c>usage</c>) is emitted, whether or not the client asked for usage.
/// No <c>[DONE]</c>: the ingress encoder writes the end of the stream.
/// Malformed upstream data raises <see cref="TranslationException"/>.
/// </remarks>
public interface IChatStreamDecoder
{
    void Feed(ReadOnlySpan<byte> data, List<JsonObject> chunks);

    /// <summary>Called once at the end of the upstream body; emits anything held back.</summary>
    void Finish(List<JsonObject> chunks);
}

/// <summary>A provider's error, normalised. <paramref name="Type"/> and <paramref name="Code"/> are the provider's own words where it has them.</summary>
public sealed record ProviderError(string Message, string? Type = null, string? Code = null, string? Param = null);

/// <summary>A request or response that cannot be translated; a 400 (request) or 502 (response) naming what is wrong.</summary>
public sealed class TranslationException(string message, int status = 400) : Exception(message)
{
    public int Status { get; } = status;
}
