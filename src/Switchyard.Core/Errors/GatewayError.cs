namespace Switchyard.Core.Errors;

/// <summary>A categorised failure produced by the gateway (not by an upstream); shaped into a response by one writer.</summary>
public sealed record GatewayError(ErrorCategory Category, string Message)
{
    /// <summary>Schema problems for <see cref="ErrorCategory.InvalidConfig"/>, rendered Portkey-style.</summary>
    public IReadOnlyList<string>? Errors { get; init; }

    /// <summary>Headers the answer carries besides the body (Retry-After and x-ratelimit-* on a 429).</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Headers { get; init; }

    /// <summary>The provider the failing target used, when there was one.</summary>
    public string? Provider { get; init; }

    public int Status => Category switch
    {
        ErrorCategory.InvalidRequest or ErrorCategory.InvalidConfig or ErrorCategory.ConfigNotFound
            or ErrorCategory.NoTarget or ErrorCategory.UnsupportedEndpoint => 400,
        ErrorCategory.ProviderUnavailable => 501,
        ErrorCategory.Timeout => 408,
        ErrorCategory.UpstreamUnreachable or ErrorCategory.BadUpstreamResponse => 502,
        ErrorCategory.PayloadTooLarge => 413,
        ErrorCategory.NotFound => 404,
        ErrorCategory.Overloaded => 503,
        ErrorCategory.RateLimited => 429,
        ErrorCategory.UsageLimitExhausted or ErrorCategory.VirtualKeyUsageLimitExhausted or ErrorCategory.PolicyUsageLimitExhausted => 412,
        _ => 500,
    };

    /// <summary>True when the failure is the gateway's own verdict on the target, which stops a fallback chain (Portkey's x-portkey-gateway-exception).</summary>
    public bool IsGatewayException => Category is ErrorCategory.UnsupportedEndpoint or ErrorCategory.ProviderUnavailable or ErrorCategory.Internal;

    /// <summary>True for failures that a retry of the same target may cure.</summary>
    public bool IsTransient => Category is ErrorCategory.UpstreamUnreachable;

    public static GatewayError Invalid(string message) => new(ErrorCategory.InvalidRequest, message);
}
