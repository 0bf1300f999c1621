namespace Switchyard.Core.Errors;

/// <summary>Every way the gateway itself can fail a request; <see cref="ErrorResponseWriter"/> turns each into a status and body.</summary>
public enum ErrorCategory
{
    /// <summary>The request is malformed (headers, body, content type). 400, Portkey failure shape.</summary>
    InvalidRequest,

    /// <summary>The routing config does not validate. 400 with an <c>errors</c> list.</summary>
    InvalidConfig,

    /// <summary>A named config was asked for that the config directory does not hold. 400.</summary>
    ConfigNotFound,

    /// <summary>Conditional routing matched nothing and has no default. 400.</summary>
    NoTarget,

    /// <summary>The provider does not serve this endpoint. 400, stops fallback.</summary>
    UnsupportedEndpoint,

    /// <summary>The provider is recognised but its adapter is not in this build. 501, stops fallback.</summary>
    ProviderUnavailable,

    /// <summary>No response headers within the per-attempt timeout. 408, Portkey's timeout_error body.</summary>
    Timeout,

    /// <summary>The upstream could not be reached or dropped the connection before answering. 502.</summary>
    UpstreamUnreachable,

    /// <summary>The upstream answered with something that cannot be translated (malformed JSON, unknown shape). 502.</summary>
    BadUpstreamResponse,

    /// <summary>The body is larger than the configured limit. 413.</summary>
    PayloadTooLarge,

    /// <summary>No such route. 404.</summary>
    NotFound,

    /// <summary>A defect in the gateway. 500, never with details of the exception.</summary>
    Internal,

    /// <summary>The gateway is at its concurrency or memory limit and refuses new work. 503 with Retry-After, OpenAI's error shape (SDKs retry it).</summary>
    Overloaded,

    /// <summary>A rate limit is full. 429 with Retry-After and x-ratelimit-* headers, Portkey's failure body with code 05.</summary>
    RateLimited,

    /// <summary>A key's, team's or model's budget is spent. 412, Portkey's failure body with code 04.</summary>
    UsageLimitExhausted,

    /// <summary>A virtual key's budget is spent. 412, <c>virtual_key_exhaust_error</c> with code 04.</summary>
    VirtualKeyUsageLimitExhausted,

    /// <summary>A usage-limit policy's budget is spent. 412, <c>usage_limits_policy_exhaust_error</c> with code 06.</summary>
    PolicyUsageLimitExhausted,
}
