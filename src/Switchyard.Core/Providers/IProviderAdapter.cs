using Switchyard.Core.Errors;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Providers;

/// <summary>Speaks one provider family's wire format: builds the upstream request and, where formats differ, adapts the response.</summary>
/// <remarks>The OpenAI-compatible adapter forwards bytes; translating adapters (Anthropic, Google, Bedrock, Azure auth) plug in here.</remarks>
public interface IProviderAdapter
{
    /// <summary>The <see cref="ProviderDescriptor.Family"/> this adapter serves.</summary>
    string Family { get; }

    /// <summary>A gateway error when the target cannot serve the request at all (checked before any upstream call).</summary>
    GatewayError? Check(GatewayRequest request, ResolvedTarget target);

    /// <summary>Builds one attempt's upstream request; called again for every retry.</summary>
    HttpRequestMessage CreateRequest(GatewayRequest request, ResolvedTarget target, ReadOnlyMemory<byte> body);

    /// <summary>Turns the upstream response into the client's protocol (identity for OpenAI-compatible providers).</summary>
    HttpResponseMessage AdaptResponse(HttpResponseMessage upstream, GatewayRequest request, ResolvedTarget target) => upstream;
}
