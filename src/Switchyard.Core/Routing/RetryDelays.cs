using System.Globalization;
using System.Net.Http.Headers;

namespace Switchyard.Core.Routing;

/// <summary>Backoff between retries: exponential, with jitter and a ceiling; and what an upstream's Retry-After asks for.</summary>
public static class RetryDelays
{
    /// <summary>Delay before retry number <paramref name="retry"/> (1-based): initial × 2^(retry−1), capped, then jittered to 50–100 % so replicas do not retry in step.</summary>
    public static TimeSpan Backoff(int retry, TimeSpan initial, TimeSpan ceiling, double random01)
    {
        var exponent = Math.Min(retry - 1, 30);
        var ms = Math.Min(initial.TotalMilliseconds * Math.Pow(2, exponent), ceiling.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ms * (0.5 + 0.5 * Math.Clamp(random01, 0, 1)));
    }

    /// <summary>The wait an upstream asked for: <c>retry-after-ms</c>, <c>x-ms-retry-after-ms</c>, or <c>Retry-After</c> (seconds or an HTTP date).</summary>
    public static TimeSpan? RequestedByUpstream(HttpResponseHeaders headers, DateTimeOffset now)
    {
        foreach (var name in (string[])["retry-after-ms", "x-ms-retry-after-ms"])
        {
            if (headers.TryGetValues(name, out var values)
                && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0)
            {
                return TimeSpan.FromMilliseconds(ms);
            }
        }
        var retryAfter = headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }
        if (retryAfter?.Date is { } date)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }
}
