using System.Globalization;

namespace Switchyard.Core.Pipeline;

/// <summary>The <c>x-portkey-*</c> response headers, from the request's context; the same on every answer, the gateway's own errors included.</summary>
public static class PortkeyHeaders
{
    public const string TraceId = "x-portkey-trace-id";
    public const string Provider = "x-portkey-provider";
    public const string LastUsedOptionIndex = "x-portkey-last-used-option-index";
    public const string RetryAttemptCount = "x-portkey-retry-attempt-count";
    public const string CacheStatus = "x-portkey-cache-status";
    public const string GatewayException = "x-portkey-gateway-exception";

    /// <summary>Calls <paramref name="set"/> for each header the answer carries.</summary>
    public static void Write<TState>(RequestContext context, TState state, Action<TState, string, string> set)
    {
        set(state, TraceId, context.TraceId);
        if (context.Provider is { } provider)
        {
            set(state, Provider, provider);
        }
        if (context.LastUsedOptionIndex is { } path)
        {
            // Routing reached a node: the answer says which.
            set(state, LastUsedOptionIndex, path);
        }
        set(state, RetryAttemptCount, context.RetryAttemptCount.ToString(CultureInfo.InvariantCulture));
        set(state, CacheStatus, context.CacheStatus);
        if (context.Error is { IsGatewayException: true })
        {
            set(state, GatewayException, "true");
        }
    }
}
