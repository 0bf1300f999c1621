namespace Switchyard.Core.Pipeline;

/// <summary>One upstream attempt (or one answer from the cache or a guardrail) made while serving a request, in order.</summary>
/// <param name="OptionPath">The leaf's option path, e.g. <c>config.targets[1]</c>.</param>
/// <param name="Retry">0 for the first attempt at that leaf, n for the n-th retry.</param>
/// <param name="Outcome">What ended the attempt: <c>response</c>, <c>cache_hit</c>, <c>guardrail_denied</c>, or a gateway error category.</param>
/// <param name="Reason">Why the router moved on after it, when it did: <c>retry</c> or <c>fallback</c>.</param>
public sealed record AttemptRecord(string OptionPath, string? Provider, int Status, int Retry, string Outcome, double DurationMs)
{
    public string? Reason { get; set; }

    /// <summary>The model the attempt asked the provider for (the config's <c>override_params.model</c>, else the request's).</summary>
    public string? Model { get; init; }

    /// <summary>When the attempt started, in milliseconds since the request arrived.</summary>
    public double StartedMs { get; init; }
}
