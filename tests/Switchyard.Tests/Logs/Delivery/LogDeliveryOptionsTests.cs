using Switchyard.Core.Logs.Delivery;
using Xunit;

namespace Switchyard.Tests.Logs.Delivery;

/// <summary>The delivery settings bind from the documented variables, with their defaults, and reject values out of range by name.</summary>
public sealed class LogDeliveryOptionsTests
{
    [Fact]
    public void Defaults_are_the_documented_ones()
    {
        var o = LogDeliveryOptions.FromEnvironment(_ => null);
        Assert.Equal(5, o.FailureThreshold);
        Assert.Equal(TimeSpan.FromMilliseconds(60_000), o.CircuitBackoff);
        Assert.Equal(TimeSpan.FromMilliseconds(15_000), o.CallTimeout);
        Assert.Equal("./data/log-spill", o.SpillDirectory);
        Assert.Equal(1024L << 20, o.SpillMaxBytes);
        Assert.False(o.SpillFsync);
        Assert.Equal(4, o.Writers);
        Assert.Equal(16, o.BatchSize);
        Assert.Equal(3, o.RetryAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(500), o.RetryInitialDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(10_000), o.RetryMaxDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(10_000), o.DrainTimeout);
    }

    [Fact]
    public void Every_variable_is_read()
    {
        var env = new Dictionary<string, string>
        {
            ["LOG_STORE_CONNECTION_FAILURE_THRESHOLD"] = "7",
            ["LOG_STORE_CONNECTION_BACKOFF_MS"] = "30000",
            ["LOG_STORE_CONNECTION_TIMEOUT_MS"] = "2500",
            ["LOG_STORE_SPILL_PATH"] = " /var/lib/switchyard/spill ",
            ["LOG_STORE_SPILL_MAX_MB"] = "0",
            ["LOG_STORE_SPILL_FSYNC"] = "on",
            ["LOG_STORE_WRITERS"] = "8",
            ["LOG_STORE_BATCH_SIZE"] = "64",
            ["LOG_STORE_RETRY_ATTEMPTS"] = "0",
            ["LOG_STORE_RETRY_DELAY_MS"] = "100",
            ["LOG_STORE_RETRY_MAX_DELAY_MS"] = "2000",
            ["LOG_STORE_DRAIN_TIMEOUT_MS"] = "0",
        };
        var o = LogDeliveryOptions.FromEnvironment(name => env.GetValueOrDefault(name));
        Assert.Equal(7, o.FailureThreshold);
        Assert.Equal(TimeSpan.FromSeconds(30), o.CircuitBackoff);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), o.CallTimeout);
        Assert.Equal("/var/lib/switchyard/spill", o.SpillDirectory);
        Assert.Equal(0, o.SpillMaxBytes);
        Assert.True(o.SpillFsync);
        Assert.Equal(8, o.Writers);
        Assert.Equal(64, o.BatchSize);
        Assert.Equal(0, o.RetryAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(100), o.RetryInitialDelay);
        Assert.Equal(TimeSpan.FromSeconds(2), o.RetryMaxDelay);
        Assert.Equal(TimeSpan.Zero, o.DrainTimeout);
    }

    [Theory]
    [InlineData("LOG_STORE_CONNECTION_FAILURE_THRESHOLD", "0")]
    [InlineData("LOG_STORE_CONNECTION_TIMEOUT_MS", "soon")]
    [InlineData("LOG_STORE_WRITERS", "65")]
    [InlineData("LOG_STORE_SPILL_MAX_MB", "-1")]
    [InlineData("LOG_STORE_SPILL_FSYNC", "sometimes")]
    public void A_bad_value_stops_start_up_naming_the_variable(string name, string value)
    {
        var error = Assert.Throws<FormatException>(() => LogDeliveryOptions.FromEnvironment(n => n == name ? value : null));
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }
}
