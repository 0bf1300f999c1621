using Switchyard.Core.Errors;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Pipeline.Steps;

/// <summary>Refuses what no route can serve: an oversized body, a JSON endpoint without a JSON content type, a body that is not a JSON object.</summary>
public sealed class RequestValidationStep(RequestLimits limits) : IRequestStep
{
    public ValueTask<GatewayError?> RunAsync(RequestContext context, CancellationToken ct) => ValueTask.FromResult(
        context.RejectedTraceId is not null
            ? GatewayError.Invalid("x-portkey-trace-id must be 1 to 128 printable ASCII characters without spaces")
            : Validate(context.Request!));

    private GatewayError? Validate(GatewayRequest request)
    {
        if (request.Body.Length > limits.MaxBodyBytes)
        {
            return new GatewayError(ErrorCategory.PayloadTooLarge, $"Payload size exceeds the limit of {limits.MaxBodyBytes / (1024 * 1024)}MB");
        }
        if (!request.Endpoint.HasJsonBody() || request.Method != "POST")
        {
            return null;
        }
        if (!request.IsJson)
        {
            return GatewayError.Invalid($"Invalid content type '{request.ContentType ?? "(none)"}': {request.Path} takes application/json");
        }
        return request.BodyFacts.Error is { } message ? GatewayError.Invalid($"Invalid request body: {message}") : null;
    }
}
