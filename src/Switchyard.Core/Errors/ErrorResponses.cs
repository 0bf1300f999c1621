using System.Net.Http.Headers;
using Switchyard.Core.Requests;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Errors;

/// <summary>Turns a <see cref="GatewayError"/> into the response a client of that endpoint expects.</summary>
public static class ErrorResponses
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>The error body in the shape of the client's protocol: Anthropic's for <c>/v1/messages</c>, Portkey/OpenAI's otherwise.</summary>
    public static byte[] Body(GatewayError error, EndpointKind endpoint) => endpoint == EndpointKind.Messages && error.Category != ErrorCategory.NotFound
        ? MessagesIngress.AnthropicErrorBody(error.Status, null, error.Message)
        : ErrorResponseWriter.Body(error);

    public static HttpResponseMessage Create(GatewayError error, EndpointKind endpoint)
    {
        var content = new ByteArrayContent(Body(error, endpoint));
        content.Headers.ContentType = Json;
        var response = new HttpResponseMessage((System.Net.HttpStatusCode)error.Status) { Content = content };
        if (error.Headers is { } headers)
        {
            foreach (var (name, value) in headers)
            {
                response.Headers.TryAddWithoutValidation(name, value);
            }
        }
        return response;
    }
}
