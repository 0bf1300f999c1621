using Switchyard.Core.Errors;

namespace Switchyard.Core.Pipeline;

/// <summary>
/// A step that runs once per request before routing (validation, config resolution; later authentication, rate limits
/// and budgets). Returning an error answers the request with it; later steps and routing do not run.
/// </summary>
public interface IRequestStep
{
    ValueTask<GatewayError?> RunAsync(RequestContext context, CancellationToken ct);
}
