using Microsoft.Extensions.Logging;
using Switchyard.Core.Configs;
using Switchyard.Core.Routing;

namespace Switchyard.Core.Pipeline;

/// <summary>
/// Runs one leaf's steps: the steps before the send once, then the attempt steps (send, output guardrails) once per
/// attempt while the retry policy asks for another, then the steps after. The retry policy is Portkey's: statuses
/// in <c>retry.on_status_codes</c> and connection failures are retried with jittered exponential backoff (or the
/// upstream's Retry-After), within a total wait budget; a 446 from an output guardrail is a status like any other.
/// </summary>
public sealed class LeafPipeline
{
    // Arrays: a foreach over an array allocates nothing, over an interface-typed list an enumerator per request.
    private readonly ILeafStep[] _before;
    private readonly ILeafStep[] _attempt;
    private readonly ILeafStep[] _after;
    private readonly RetryOptions _retry;
    private readonly TimeProvider _time;
    private readonly Func<double> _random;
    private readonly ILogger _logger;

    public LeafPipeline(IReadOnlyList<ILeafStep> before, IReadOnlyList<ILeafStep> attempt, IReadOnlyList<ILeafStep> after,
        RetryOptions retry, TimeProvider time, ILogger logger, Func<double>? random = null)
    {
        _before = [.. before];
        _attempt = [.. attempt];
        _after = [.. after];
        _retry = retry;
        _time = time;
        _logger = logger;
        _random = random ?? Random.Shared.NextDouble;
    }

    /// <summary>Every step, in the order a leaf runs them.</summary>
    public IEnumerable<ILeafStep> Steps => _before.Concat(_attempt).Concat(_after);

    public async Task<RouteOutcome> RunAsync(LeafExchange leaf, CancellationToken ct)
    {
        foreach (var step in _before)
        {
            await step.RunAsync(leaf, ct).ConfigureAwait(false);
            if (leaf.Outcome is { } early)
            {
                return early;
            }
        }

        var retry = leaf.Target.Settings.Retry ?? RetrySettings.None;
        var waited = TimeSpan.Zero;
        RouteOutcome outcome;
        for (var attempt = 0; ; attempt++)
        {
            leaf.Attempt = attempt;
            leaf.Outcome = null;
            foreach (var step in _attempt)
            {
                await step.RunAsync(leaf, ct).ConfigureAwait(false);
            }
            outcome = leaf.Outcome ?? throw new InvalidOperationException("no attempt step produced an outcome");
            outcome.RetryAttemptCount = attempt;

            var retriable = outcome.Error is { IsTransient: true }
                || (!outcome.IsSuccess && outcome.Error is not { IsGatewayException: true } && retry.OnStatusCodes.Contains(outcome.Status));
            if (!retriable)
            {
                break;
            }
            if (attempt >= retry.Attempts)
            {
                if (retry.Attempts > 0)
                {
                    outcome.RetryAttemptCount = -1;
                }
                break;
            }
            var delay = RetryDelays.Backoff(attempt + 1, _retry.InitialDelay, _retry.MaxDelay, _random());
            if (retry.UseRetryAfterHeader && outcome.Response is not null
                && RetryDelays.RequestedByUpstream(outcome.Response.Headers, _time.GetUtcNow()) is { } requested)
            {
                delay = requested;
            }
            if (waited + delay > _retry.Budget)
            {
                // Waiting longer than the budget allows would hold the client for nothing: answer now.
                outcome.RetryAttemptCount = -1;
                break;
            }
            _logger.LogDebug("Retrying {Path} after {Status} in {Delay} ms (retry {Retry} of {Attempts})",
                leaf.Leaf.OptionPath, outcome.Status, (int)delay.TotalMilliseconds, attempt + 1, retry.Attempts);
            if (leaf.Context.Attempts is { Count: > 0 } attempts)
            {
                attempts[^1].Reason = "retry";
            }
            outcome.Dispose();
            waited += delay;
            await Task.Delay(delay, _time, ct).ConfigureAwait(false);
        }

        foreach (var step in _after)
        {
            await step.RunAsync(leaf, ct).ConfigureAwait(false);
        }
        return leaf.Outcome ?? outcome;
    }
}
