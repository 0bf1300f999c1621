using Switchyard.Core.Errors;

namespace Switchyard.Core.Routing;

/// <summary>What routing produced: an upstream response whose body is still unread, or a gateway error; plus the Portkey headers that describe it.</summary>
public sealed class RouteOutcome : IDisposable
{
    private CancellationTokenSource? _attemptScope;

    public HttpResponseMessage? Response { get; internal set; }

    public GatewayError? Error { get; private init; }

    /// <summary>Option path of the leaf that produced the outcome (<c>x-portkey-last-used-option-index</c>).</summary>
    public string LastUsedOptionIndex { get; set; } = "config";

    /// <summary>Retries performed at that leaf; -1 when attempts ran out on a retriable status (<c>x-portkey-retry-attempt-count</c>).</summary>
    public int RetryAttemptCount { get; set; }

    public string? Provider { get; set; }

    /// <summary><c>x-portkey-cache-status</c> of the leaf that produced the outcome; null when no leaf was reached.</summary>
    public string? CacheStatus { get; set; }

    /// <summary>The status the client will see.</summary>
    public int Status => Response is not null ? (int)Response.StatusCode : Error!.Status;

    public bool IsSuccess => Response is not null && Status is >= 200 and < 300;

    public static RouteOutcome FromResponse(HttpResponseMessage response, CancellationTokenSource? attemptScope) =>
        new() { Response = response, _attemptScope = attemptScope };

    public static RouteOutcome FromError(GatewayError error) => new() { Error = error, Provider = error.Provider };

    /// <summary>Hands the attempt's cancellation scope to whoever now owns the response (it is disposed with the response's body).</summary>
    internal IDisposable? DetachAttemptScope()
    {
        var scope = _attemptScope;
        _attemptScope = null;
        return scope;
    }

    public void Dispose()
    {
        Response?.Dispose();
        _attemptScope?.Dispose();
        _attemptScope = null;
    }
}
