using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Switchyard.Core.Errors;
using Switchyard.Core.Requests;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Anthropic;

/// <summary>
/// Anthropic's API. <c>/v1/messages</c> (and the pass-through surface) go through as bytes; chat and the other
/// LLM protocols are translated by <see cref="AnthropicChatDialect"/>.
/// </summary>
/// <remarks>
/// Headers: <c>x-api-key</c> (the target's key, else the client's own <c>x-api-key</c>), <c>anthropic-version</c>
/// (provider field <c>anthropic_version</c>, else the client's header, else <see cref="DefaultVersion"/>) and
/// <c>anthropic-beta</c> (field <c>anthropic_beta</c> or the client's header; omitted when neither is set).
/// </remarks>
public sealed class AnthropicAdapter : IProviderAdapter
{
    public const string DefaultVersion = "2023-06-01";


    public AnthropicAdapter()
    {
        Chat = new AnthropicChatDialect(this);
    }

    public string Family => "anthropic";

    public IChatDialect? Chat { get; }

    public GatewayError? Check(GatewayRequest request, ResolvedTarget target)
    {
        if (request.Endpoint is EndpointKind.ChatComplete or EndpointKind.Messages or EndpointKind.CreateModelResponse or EndpointKind.Proxy)
        {
            return null;
        }
        return new GatewayError(ErrorCategory.UnsupportedEndpoint, $"{request.Endpoint.FnName()} is not supported by {target.Provider.Slug}")
        {
            Provider = target.Provider.Slug,
        };
    }

    public bool IsNative(EndpointKind endpoint, ResolvedTarget target) => endpoint is EndpointKind.Messages or EndpointKind.Proxy;

    public ValueTask<HttpRequestMessage> CreateRequestAsync(UpstreamCall call, CancellationToken ct)
    {
        var message = call.CreateMessage();
        var (request, target) = (call.Request, call.Target);
        AddHeaders(message, request, target);
        return ValueTask.FromResult(message);
    }

    /// <summary>Auth, <c>anthropic-version</c>, <c>anthropic-beta</c> and the client headers the config forwards.</summary>
    private static void AddHeaders(HttpRequestMessage message, GatewayRequest request, ResolvedTarget target)
    {
        var key = target.ApiKey is { Length: > 0 } k ? k : request.Headers.Get("x-api-key");
        Set(message, "x-api-key", key);
        Set(message, "anthropic-version", target.Field("anthropic_version") ?? request.Headers.Get("anthropic-version") ?? DefaultVersion);
        Set(message, "anthropic-beta", target.Field("anthropic_beta") ?? request.Headers.Get("anthropic-beta"));
        foreach (var name in target.ForwardHeaders)
        {
            if (request.Headers.Get(name) is { } value && !UpstreamHeaders.IsHopByHop(name))
            {
                Set(message, name, value);
            }
        }
    }

    private static void Set(HttpRequestMessage message, string name, string? value)
    {
        message.Headers.Remove(name);
        if (!string.IsNullOrEmpty(value))
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }
    }
}

/// <summary>Canonical chat ⇄ Anthropic Messages over the Anthropic adapter's URL and headers (translation in <see cref="AnthropicMessagesCodec"/>).</summary>
public sealed class AnthropicChatDialect(IProviderAdapter native) : IChatDialect
{
    public ValueTask<HttpRequestMessage> CreateRequestAsync(ChatCall call, CancellationToken ct)
    {
        var body = AnthropicMessagesCodec.ToMessagesRequest(call.Body);
        var bytes = ChatJson.Serialize(body);
        return native.CreateRequestAsync(new UpstreamCall(call.Request, call.Target, EndpointKind.Messages, "/messages", bytes), ct);
    }

    public JsonObject ToChatCompletion(ReadOnlySpan<byte> body, ChatCall call) => AnthropicMessagesCodec.ToChatCompletion(body, call.Body, call.Created, call.Provider, call.StrictOpenAiCompliance);

    public IChatStreamDecoder CreateStreamDecoder(ChatCall call) => new AnthropicStreamDecoder(call.Body, call.Created, call.Provider, call.StrictOpenAiCompliance);

    public ProviderError ReadError(int status, ReadOnlySpan<byte> body, ChatCall call) => AnthropicMessagesCodec.ReadError(status, body);
}
