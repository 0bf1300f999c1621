using Switchyard.Core.Errors;
using Switchyard.Core.Limits;

namespace Switchyard.Core.Pipeline.Steps;

/// <summary>Reserves the request against its rate limits and budgets (after config resolution, which may name its virtual key).</summary>
public sealed class LimitAdmissionStep(UsageLimiter limiter) : IRequestStep
{
    public ValueTask<GatewayError?> RunAsync(RequestContext context, CancellationToken ct) =>
        // No rule anywhere: one check and a completed ValueTask, nothing allocated.
        limiter.Applies(context) ? limiter.AdmitAsync(context, ct) : default;
}
