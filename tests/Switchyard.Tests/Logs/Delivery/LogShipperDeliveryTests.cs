using System.Text.Json;
using Xunit;

namespace Switchyard.Tests.Logs.Delivery;

/// <summary>With the store up, every record reaches it exactly once, off the request path; a passing failure is retried, not spilled.</summary>
public sealed class LogShipperDeliveryTests
{
    [Fact]
    public async Task Every_record_reaches_the_store_exactly_once()
    {
        await using var bed = new DeliveryTestBed();
        var shipper = bed.Create();
        const int n = 2000;
        // Several request threads at once, as under traffic.
        await Parallel.ForAsync(0, n, (i, _) =>
        {
            Assert.True(shipper.TryWrite(DeliveryTestBed.Record(i)));
            return ValueTask.CompletedTask;
        });

        await bed.Drained(shipper);

        Assert.Equal(n, bed.Store.Objects.Count);
        for (var i = 0; i < n; i++)
        {
            Assert.Equal(1, bed.Store.Puts[DeliveryTestBed.KeyOf(i)]);
            using var doc = JsonDocument.Parse(bed.Store.Objects[DeliveryTestBed.KeyOf(i)]);
            Assert.Equal(DeliveryTestBed.TraceId(i), doc.RootElement.GetProperty("trace_id").GetString());
        }
        Assert.Equal(n, shipper.Delivered);
        Assert.Equal(0, shipper.Dropped);
        Assert.Equal(0, shipper.SpilledTotal);
        Assert.Equal(0, shipper.QueueDepth);
        Assert.Empty(bed.SpillFiles());
        Assert.Equal("test", shipper.Store);
    }

    [Fact]
    public async Task A_passing_failure_is_retried_after_a_backoff_on_the_clock_and_not_spilled()
    {
        await using var bed = new DeliveryTestBed();
        var shipper = bed.Create(bed.Options with { Writers = 1, RetryAttempts = 3 });
        bed.Store.FailNext(2);

        Assert.True(shipper.TryWrite(DeliveryTestBed.Record(1)));
        await bed.Eventually(() => bed.Store.Calls == 1, "first attempt");
        await DeliveryTestBed.Settle();
        // The retry waits for the clock, not for wall time.
        Assert.Equal(1, bed.Store.Calls);
        // Retry waits are 0.5-1 s: quarter-second steps until each call shows up cannot skip one.
        var step = TimeSpan.FromMilliseconds(250);
        await bed.Eventually(() => bed.Store.Calls == 2, "second attempt", step);
        await bed.Eventually(() => bed.Store.Calls == 3, "third attempt", step);
        await bed.Drained(shipper);

        Assert.Equal(3, bed.Store.Calls);
        Assert.Equal(2, shipper.Retries);
        Assert.Equal(2, shipper.Failures);
        Assert.Equal(1, bed.Store.Puts[DeliveryTestBed.KeyOf(1)]);
        Assert.Equal(0, shipper.SpilledTotal);
        Assert.False(shipper.CircuitOpen);
    }

    [Fact]
    public async Task An_answer_slower_than_the_call_timeout_counts_as_a_failure_and_the_record_is_spilled_then_delivered()
    {
        await using var bed = new DeliveryTestBed();
        var shipper = bed.Create(bed.Options with { Writers = 1, RetryAttempts = 0, CallTimeout = TimeSpan.FromSeconds(15) });
        bed.Store.Hold();

        shipper.TryWrite(DeliveryTestBed.Record(7));
        await bed.Eventually(() => bed.Store.Calls == 1, "the call");
        bed.Clock.Advance(TimeSpan.FromSeconds(14));
        await DeliveryTestBed.Settle();
        Assert.Equal(0, shipper.Failures);
        bed.Clock.Advance(TimeSpan.FromSeconds(1));
        await bed.Eventually(() => shipper.SpilledRecords == 1, "the timed-out record in the spill");
        Assert.Equal(1, shipper.Failures);

        bed.Store.Release();
        await bed.Drained(shipper, TimeSpan.FromSeconds(1));
        Assert.Equal(1, bed.Store.Puts[DeliveryTestBed.KeyOf(7)]);
        Assert.Equal(1, shipper.UploadedFromSpill);
    }
}
