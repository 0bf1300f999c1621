using Switchyard.Core.Errors;
using Switchyard.Core.Routing;

namespace Switchyard.Core.Pipeline.Steps;

/// <summary>Finds the routing config for the request (header mode, inline JSON, or a named config) and puts the plan in the context.</summary>
public sealed class ConfigResolutionStep(ConfigResolver resolver) : IRequestStep
{
    public ValueTask<GatewayError?> RunAsync(RequestContext context, CancellationToken ct)
    {
        var plan = resolver.Resolve(context, out var error);
        context.Plan = plan;
        return ValueTask.FromResult(plan is null ? error : null);
    }
}
