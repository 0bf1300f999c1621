using Xunit;

namespace Switchyard.Tests.Logs.Delivery;

/// <summary>A store that goes away: records spill, the circuit opens and probes on the clock, and everything arrives once it is back.</summary>
public sealed class LogShipperOutageTests
{
    [Fact]
    public async Task Records_spill_while_the_store_is_down_and_all_arrive_exactly_once_when_it_returns()
    {
        await using var bed = new DeliveryTestBed();
        var shipper = bed.Create(bed.Options with { FailureThreshold = 3, RetryAttempts = 1 });
        bed.Store.Down = true;
        const int n = 300;
        for (var i = 0; i < n; i++)
        {
            Assert.True(shipper.TryWrite(DeliveryTestBed.Record(i)));
        }

        await bed.Eventually(() => shipper.QueueDepth == 0 && shipper.SpilledRecords == n, "every record in the spill", TimeSpan.FromSeconds(1));
        Assert.True(shipper.CircuitOpen);
        Assert.Empty(bed.Store.Objects);
        Assert.Equal(n, bed.SpillFiles().Length);
        Assert.True(shipper.SpilledBytes > 0);
        Assert.Equal(0, shipper.Dropped);

        bed.Store.Down = false;
        await bed.Drained(shipper, TimeSpan.FromSeconds(5));

        Assert.Equal(n, bed.Store.Objects.Count);
        Assert.All(Enumerable.Range(0, n), i => Assert.Equal(1, bed.Store.Puts[DeliveryTestBed.KeyOf(i)]));
        Assert.Empty(bed.SpillFiles());
        Assert.Equal(0, shipper.SpilledBytes);
        Assert.False(shipper.CircuitOpen);
        Assert.Equal(n, shipper.UploadedFromSpill);
        Assert.Equal(n, shipper.Delivered);
        Assert.Equal(0, shipper.Dropped);
        await bed.Eventually(() => bed.Logger.Count(LogLevel.Information, "Spill directory empty again") == 1, "the all-clear in the log");
    }

    [Fact]
    public async Task The_circuit_opens_after_the_threshold_probes_after_the_backoff_and_closes_on_success()
    {
        await using var bed = new DeliveryTestBed();
        // One writer and many retries, each 0.5-1 s apart: moving the clock by quarter seconds until the next call
        // shows up can never skip one, so the call count is exact.
        var shipper = bed.Create(bed.Options with
        {
            Writers = 1,
            FailureThreshold = 3,
            RetryAttempts = 10,
            CircuitBackoff = TimeSpan.FromSeconds(60),
        });
        var step = TimeSpan.FromMilliseconds(250);
        bed.Store.Down = true;

        shipper.TryWrite(DeliveryTestBed.Record(0));
        await bed.Eventually(() => bed.Store.Calls == 1, "call 1");
        await bed.Eventually(() => bed.Store.Calls == 2, "call 2", step);
        Assert.False(shipper.CircuitOpen);
        await bed.Eventually(() => shipper.CircuitOpen, "the circuit opening at the third failure", step);
        // It opened at most one step before now.
        var openedBy = bed.Clock.GetUtcNow();
        Assert.Equal(3, bed.Store.Calls);

        // The record's next retry finds the circuit open: to disk, no call.
        await bed.Eventually(() => shipper.SpilledRecords == 1, "record 0 spilled", step);
        shipper.TryWrite(DeliveryTestBed.Record(1));
        shipper.TryWrite(DeliveryTestBed.Record(2));
        await bed.Eventually(() => shipper.SpilledRecords == 3 && shipper.QueueDepth == 0, "records 1 and 2 spilled");
        Assert.Equal(3, bed.Store.Calls);

        // Short of the backoff, no probe.
        bed.Clock.Advance(openedBy + TimeSpan.FromSeconds(59.5) - bed.Clock.GetUtcNow());
        await DeliveryTestBed.Settle();
        Assert.Equal(3, bed.Store.Calls);
        Assert.True(shipper.CircuitOpen);

        bed.Store.Down = false;
        bed.Clock.Advance(TimeSpan.FromSeconds(0.5));
        await bed.Drained(shipper);

        Assert.False(shipper.CircuitOpen);
        Assert.Equal(6, bed.Store.Calls);
        Assert.All(new[] { 0, 1, 2 }, i => Assert.Equal(1, bed.Store.Puts[DeliveryTestBed.KeyOf(i)]));
        // Each state change is logged once, not once per record.
        Assert.Equal(1, bed.Logger.Count(LogLevel.Warning, "circuit open"));
        Assert.Equal(1, bed.Logger.Count(LogLevel.Information, "half-open"));
        Assert.Equal(1, bed.Logger.Count(LogLevel.Information, "circuit closed"));
    }

    [Fact]
    public async Task A_failed_probe_keeps_the_circuit_open_for_another_backoff()
    {
        await using var bed = new DeliveryTestBed();
        var shipper = bed.Create(bed.Options with { Writers = 1, FailureThreshold = 1, RetryAttempts = 0, CircuitBackoff = TimeSpan.FromSeconds(60) });
        bed.Store.Down = true;

        shipper.TryWrite(DeliveryTestBed.Record(0));
        await bed.Eventually(() => shipper.CircuitOpen && shipper.SpilledRecords == 1, "open, record spilled");
        Assert.Equal(1, bed.Store.Calls);

        bed.Clock.Advance(TimeSpan.FromSeconds(60));
        await bed.Eventually(() => bed.Logger.Count(LogLevel.Warning, "probe failed") == 1, "the first probe to fail");
        Assert.Equal(2, bed.Store.Calls);
        Assert.True(shipper.CircuitOpen);
        Assert.Equal(1, shipper.SpilledRecords);

        bed.Clock.Advance(TimeSpan.FromSeconds(59));
        await DeliveryTestBed.Settle();
        Assert.Equal(2, bed.Store.Calls);
        bed.Clock.Advance(TimeSpan.FromSeconds(1));
        await bed.Eventually(() => bed.Logger.Count(LogLevel.Warning, "probe failed") == 2, "the second probe");
        Assert.Equal(3, bed.Store.Calls);

        bed.Store.Down = false;
        bed.Clock.Advance(TimeSpan.FromSeconds(60));
        await bed.Drained(shipper);
        Assert.False(shipper.CircuitOpen);
        Assert.Equal(1, bed.Store.Puts[DeliveryTestBed.KeyOf(0)]);
        Assert.Equal(1, bed.Logger.Count(LogLevel.Warning, "circuit open"));
    }

    [Fact]
    public async Task A_write_the_store_applied_but_answered_with_an_error_is_retried_into_the_same_object()
    {
        await using var bed = new DeliveryTestBed();
        var shipper = bed.Create(bed.Options with { Writers = 1, RetryAttempts = 2 });
        bed.Store.ApplyThenFailNext(1);

        shipper.TryWrite(DeliveryTestBed.Record(5));
        await bed.Drained(shipper, TimeSpan.FromSeconds(1));

        Assert.Single(bed.Store.Objects);
        Assert.Equal(2, bed.Store.Puts[DeliveryTestBed.KeyOf(5)]);
        Assert.Equal(1, shipper.Retries);
    }
}
