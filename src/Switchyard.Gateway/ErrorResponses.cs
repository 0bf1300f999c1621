using Switchyard.Core.Errors;

namespace Switchyard.Gateway;

/// <summary>Writes a <see cref="GatewayError"/> to the client, the only way the server reports its own failures.</summary>
internal static class ErrorResponses
{
    public static Task WriteAsync(HttpContext context, GatewayError error)
    {
        var response = context.Response;
        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        if (error.IsGatewayException)
        {
            response.Headers["x-portkey-gateway-exception"] = "true";
        }
        // Anthropic clients parse errors in Anthropic's shape.
        var body = context.Request.Path.Equals("/v1/messages", StringComparison.Ordinal)
            ? Switchyard.Core.Translation.MessagesIngress.AnthropicErrorBody(error.Status, null, error.Message)
            : ErrorResponseWriter.Body(error);
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
