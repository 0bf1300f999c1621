using System.Net.Http.Headers;
using Switchyard.Core.Errors;
using Switchyard.Core.Requests;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers;

/// <summary>The adapter for OpenAI and every provider that speaks its API: body and response pass through as bytes.</summary>
public sealed class OpenAiCompatibleAdapter : IProviderAdapter
{

    public string Family => "openai";

    public GatewayError? Check(GatewayRequest request, ResolvedTarget target)
    {
        if (target.Provider.Unsupported.Contains(request.Endpoint))
        {
            return new GatewayError(ErrorCategory.UnsupportedEndpoint, $"{request.Endpoint.FnName()} is not supported by {target.Provider.Slug}")
            {
                Provider = target.Provider.Slug,
            };
        }
        return null;
    }

    public OpenAiCompatibleAdapter()
    {
        Chat = new OpenAiChatDialect(this);
    }

    public IChatDialect? Chat { get; }

    /// <summary>Everything but Anthropic's Messages API; the Responses API only where the provider has it.</summary>
    public bool IsNative(EndpointKind endpoint, ResolvedTarget target) => endpoint switch
    {
        EndpointKind.Messages => false,
        EndpointKind.CreateModelResponse => target.Provider.NativeResponses,
        _ => true,
    };

    public ValueTask<HttpRequestMessage> CreateRequestAsync(UpstreamCall call, CancellationToken ct) => ValueTask.FromResult(CreateRequest(call));

    /// <summary>The upstream request for <paramref name="call"/>: the target's base URL plus the OpenAI path, with its auth headers.</summary>
    public static HttpRequestMessage CreateRequest(UpstreamCall call)
    {
        var message = call.CreateMessage();
        var (request, target) = (call.Request, call.Target);
        AddAuthAndForwardedHeaders(message, request, target);
        return message;
    }

    /// <summary>The provider's auth header, its field headers (e.g. OpenAI-Organization) and the client headers the config forwards.</summary>
    public static void AddAuthAndForwardedHeaders(HttpRequestMessage message, GatewayRequest request, ResolvedTarget target)
    {
        var provider = target.Provider;
        if (target.ApiKey is { Length: > 0 } key)
        {
            switch (provider.Auth)
            {
                case AuthScheme.Bearer:
                    message.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
                    break;
                case AuthScheme.Header when provider.AuthHeader is not null:
                    message.Headers.TryAddWithoutValidation(provider.AuthHeader, key);
                    break;
            }
        }
        foreach (var (field, header) in provider.FieldHeaders)
        {
            if (target.ProviderFields.TryGetValue(field, out var value) && value.Length > 0)
            {
                message.Headers.TryAddWithoutValidation(header, value);
            }
        }
        foreach (var name in target.ForwardHeaders)
        {
            if (request.Headers.Get(name) is { } value && !UpstreamHeaders.IsHopByHop(name))
            {
                message.Headers.Remove(name);
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }
    }
}
