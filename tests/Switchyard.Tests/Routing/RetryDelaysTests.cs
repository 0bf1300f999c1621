using System.Net.Http.Headers;
using Switchyard.Core.Routing;
using Xunit;

namespace Switchyard.Tests.Routing;

/// <summary>Backoff arithmetic and Retry-After parsing.</summary>
public sealed class RetryDelaysTests
{
    [Theory]
    [InlineData(1, 0.0, 500)]
    [InlineData(1, 1.0, 1000)]
    [InlineData(2, 1.0, 2000)]
    [InlineData(3, 1.0, 4000)]
    [InlineData(4, 1.0, 5000)]
    [InlineData(10, 1.0, 5000)]
    [InlineData(10, 0.0, 2500)]
    [InlineData(60, 0.5, 3750)]
    public void Backoff_doubles_is_capped_and_jittered(int retry, double random, double expectedMs)
    {
        var delay = RetryDelays.Backoff(retry, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), random);
        Assert.Equal(expectedMs, delay.TotalMilliseconds, 3);
    }

    private static HttpResponseHeaders Headers(params (string, string)[] values)
    {
        var response = new HttpResponseMessage();
        foreach (var (n, v) in values)
        {
            response.Headers.TryAddWithoutValidation(n, v);
        }
        return response.Headers;
    }

    [Fact]
    public void Retry_after_forms_are_understood_in_priority_order()
    {
        var now = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromMilliseconds(250), RetryDelays.RequestedByUpstream(Headers(("retry-after-ms", "250"), ("retry-after", "9")), now));
        Assert.Equal(TimeSpan.FromMilliseconds(1500.5), RetryDelays.RequestedByUpstream(Headers(("x-ms-retry-after-ms", "1500.5")), now));
        Assert.Equal(TimeSpan.FromSeconds(7), RetryDelays.RequestedByUpstream(Headers(("retry-after", "7")), now));
        Assert.Equal(TimeSpan.FromSeconds(30), RetryDelays.RequestedByUpstream(Headers(("retry-after", "Sun, 22 Nov 2026 12:00:30 GMT")), now));
        Assert.Equal(TimeSpan.Zero, RetryDelays.RequestedByUpstream(Headers(("retry-after", "Sun, 22 Nov 2026 11:00:00 GMT")), now));
        Assert.Null(RetryDelays.RequestedByUpstream(Headers(("retry-after", "soon")), now));
        Assert.Null(RetryDelays.RequestedByUpstream(Headers(), now));
    }
}
