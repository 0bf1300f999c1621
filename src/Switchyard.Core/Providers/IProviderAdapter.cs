using Switchyard.Core.Errors;
using Switchyard.Core.Requests;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers;

/// <summary>Speaks one provider family's wire format.</summary>
/// <remarks>
/// Two ways in: an endpoint the provider speaks natively (<see cref="IsNative"/>) goes through
/// <see cref="CreateRequestAsync"/> with the client's bytes; anything else in an LLM protocol (chat, messages,
/// responses) is turned into an OpenAI chat request by the ingress protocol and handed to <see cref="Chat"/>.
/// See <c>src/Switchyard.Core/Translation/SEAM.md</c>.
/// </remarks>
public interface IProviderAdapter
{
    /// <summary>The <see cref="ProviderDescriptor.Family"/> this adapter serves.</summary>
    string Family { get; }

    /// <summary>A gateway error when the target cannot serve the request at all (checked before any upstream call).</summary>
    GatewayError? Check(GatewayRequest request, ResolvedTarget target) => null;

    /// <summary>True when the target speaks <paramref name="endpoint"/>'s protocol itself, so the body passes through as bytes.</summary>
    bool IsNative(EndpointKind endpoint, ResolvedTarget target);

    /// <summary>Builds one attempt's upstream request for a native endpoint; called again for every retry.</summary>
    ValueTask<HttpRequestMessage> CreateRequestAsync(UpstreamCall call, CancellationToken ct);

    /// <summary>The provider's chat dialect, used when the client's protocol is not native; null when it has none.</summary>
    IChatDialect? Chat { get; }
}

/// <summary>One native upstream call: the request, the target and the body to send to <see cref="UpstreamPath"/>.</summary>
/// <param name="Endpoint">What is being called (may differ from the client's endpoint when a dialect calls the provider's chat API).</param>
/// <param name="UpstreamPath">Path below the provider's base URL, e.g. <c>/chat/completions</c>.</param>
public sealed record UpstreamCall(GatewayRequest Request, ResolvedTarget Target, EndpointKind Endpoint, string UpstreamPath, ReadOnlyMemory<byte> Body)
{
    private static readonly System.Net.Http.Headers.MediaTypeHeaderValue JsonType = new("application/json");

    public static UpstreamCall Native(GatewayRequest request, ResolvedTarget target, ReadOnlyMemory<byte> body) =>
        new(request, target, request.Endpoint, request.UpstreamPath, body);

    /// <summary>
    /// The upstream message without auth: the target's base URL plus <see cref="UpstreamPath"/> (with the client's
    /// method and query when the client's own endpoint is called), the body, and on the pass-through surface the
    /// client's headers less gateway controls and credentials. Adapters add their auth headers.
    /// </summary>
    public HttpRequestMessage CreateMessage()
    {
        var sameEndpoint = Endpoint == Request.Endpoint;
        var message = new HttpRequestMessage(sameEndpoint ? HttpMethod.Parse(Request.Method) : HttpMethod.Post, Target.BaseUrl + UpstreamPath + (sameEndpoint ? Request.QueryString : ""))
        {
            Version = System.Net.HttpVersion.Version11,
        };
        if (Request.Method is not ("GET" or "HEAD" or "DELETE") || !Body.IsEmpty || !sameEndpoint)
        {
            var content = new ReadOnlyMemoryContent(Body);
            if (!sameEndpoint || Endpoint.HasJsonBody() || Request.ContentType is null)
            {
                content.Headers.ContentType = JsonType;
            }
            else
            {
                // Multipart and binary bodies keep the client's content type (the multipart boundary lives there).
                content.Headers.TryAddWithoutValidation("Content-Type", Request.ContentType);
            }
            message.Content = content;
        }
        if (Endpoint == EndpointKind.Proxy)
        {
            foreach (var (name, value) in Request.Headers.All())
            {
                if (UpstreamHeaders.IsHopByHop(name) || UpstreamHeaders.IsGatewayOnly(name) || name.Equals("content-type", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }
        return message;
    }
}
