using Microsoft.Extensions.Time.Testing;
using Switchyard.Core.Logs.Delivery;
using Xunit;

namespace Switchyard.Tests.Logs.Delivery;

/// <summary>A graceful shutdown under load loses nothing: what the store takes in time is uploaded, the rest is on disk for the next start.</summary>
public sealed class LogShipperShutdownTests
{
    private const int Producers = 4;
    private const int PerProducer = 400;

    /// <summary>Request threads writing while shutdown begins; returns how many writes said "accepted".</summary>
    private static async Task<int> WriteUnderLoadWhileShuttingDown(DeliveryTestBed bed, LogShipper shipper, Func<Task> shutdown)
    {
        var accepted = 0;
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(() =>
        {
            for (var i = 0; i < PerProducer; i++)
            {
                if (shipper.TryWrite(DeliveryTestBed.Record(p * PerProducer + i)))
                {
                    Interlocked.Increment(ref accepted);
                }
                if (i == PerProducer / 2)
                {
                    halfway.TrySetResult();
                }
            }
        })).ToArray();
        await halfway.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var stopping = shutdown();
        await Task.WhenAll(producers).WaitAsync(TimeSpan.FromSeconds(60));
        await stopping;
        return accepted;
    }

    private static HashSet<string> KeysOnDisk(DeliveryTestBed bed) =>
        bed.SpillFiles()
            .Select(f => SpillFileFormat.TryDecode(File.ReadAllBytes(f), out _)!.Key)
            .ToHashSet();

    [Fact]
    public async Task Store_up_every_record_is_uploaded_or_on_disk_and_none_twice()
    {
        await using var bed = new DeliveryTestBed();
        var shipper = bed.Create();
        var accepted = await WriteUnderLoadWhileShuttingDown(bed, shipper, () => bed.Shutdown(shipper));

        const int total = Producers * PerProducer;
        Assert.Equal(total, accepted);
        Assert.Equal(0, shipper.Dropped);
        var onDisk = KeysOnDisk(bed);
        Assert.Empty(onDisk.Intersect(bed.Store.Objects.Keys));
        Assert.Equal(total, bed.Store.Objects.Count + onDisk.Count);
        // Writes that came after shutdown began are the only ones left on disk; the next start uploads them.
        var next = bed.Create(clock: new FakeTimeProvider(bed.Clock.GetUtcNow()));
        await bed.Drained(next);
        Assert.Equal(total, bed.Store.Objects.Count);
        Assert.All(bed.Store.Puts.Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task Store_down_every_record_is_on_disk_when_shutdown_returns_and_arrives_after_restart()
    {
        await using var bed = new DeliveryTestBed();
        var shipper = bed.Create();
        bed.Store.Down = true;
        // The retries' backoffs and the drain deadline run on the test clock: move it while shutting down.
        var accepted = await WriteUnderLoadWhileShuttingDown(bed, shipper, () => bed.Shutdown(shipper, TimeSpan.FromSeconds(1)));

        const int total = Producers * PerProducer;
        Assert.Equal(total, accepted);
        Assert.Equal(0, shipper.Dropped);
        Assert.Empty(bed.Store.Objects);
        Assert.Equal(total, KeysOnDisk(bed).Count);
        Assert.Equal(total, shipper.SpilledRecords);

        bed.Store.Down = false;
        var next = bed.Create(clock: new FakeTimeProvider(bed.Clock.GetUtcNow()));
        await bed.Drained(next);
        Assert.Equal(total, bed.Store.Objects.Count);
        Assert.All(bed.Store.Puts.Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task A_store_that_hangs_past_the_drain_deadline_does_not_hold_shutdown_and_the_records_are_spilled()
    {
        await using var bed = new DeliveryTestBed();
        var shipper = bed.Create(bed.Options with { DrainTimeout = TimeSpan.FromSeconds(10), CallTimeout = TimeSpan.FromSeconds(15) });
        bed.Store.Hold();
        for (var i = 0; i < 100; i++)
        {
            shipper.TryWrite(DeliveryTestBed.Record(i));
        }
        await bed.Eventually(() => bed.Store.Calls == 4, "four calls in flight (LOG_STORE_WRITERS)");

        var stopping = shipper.DisposeAsync().AsTask();
        bed.Clock.Advance(TimeSpan.FromSeconds(9));
        await DeliveryTestBed.Settle();
        Assert.False(stopping.IsCompleted);
        bed.Clock.Advance(TimeSpan.FromSeconds(1));
        await stopping.WaitAsync(TimeSpan.FromSeconds(60));

        // No call timed out (15 s): the deadline ended them, and the store never answered.
        Assert.Equal(0, shipper.Failures);
        Assert.Equal(100, shipper.SpilledRecords);
        Assert.Equal(0, shipper.Dropped);

        bed.Store.Release();
        var next = bed.Create(clock: new FakeTimeProvider(bed.Clock.GetUtcNow()));
        await bed.Drained(next);
        Assert.Equal(100, bed.Store.Objects.Count);
    }

    [Fact]
    public async Task Shutdown_uploads_the_spill_in_the_drain_time_left_once_the_queue_is_empty()
    {
        await using var bed = new DeliveryTestBed();
        var options = bed.Options with { FailureThreshold = 1, RetryAttempts = 0 };
        var first = bed.Create(options);
        bed.Store.Down = true;
        for (var i = 0; i < 20; i++)
        {
            first.TryWrite(DeliveryTestBed.Record(i));
        }
        await bed.Shutdown(first, TimeSpan.FromSeconds(1));
        Assert.Equal(20, bed.SpillFiles().Length);

        // Never started, so its drainer never ran: only shutdown's last pass can have uploaded the spill.
        bed.Store.Down = false;
        var second = bed.Create(options, clock: new FakeTimeProvider(bed.Clock.GetUtcNow()), start: false);
        second.TryWrite(DeliveryTestBed.Record(20));
        await bed.Shutdown(second);

        Assert.Equal(21, bed.Store.Objects.Count);
        Assert.Empty(bed.SpillFiles());
        Assert.Equal(20, second.UploadedFromSpill);
    }

    [Fact]
    public async Task A_shipper_never_started_still_delivers_its_queue_on_shutdown()
    {
        await using var bed = new DeliveryTestBed();
        var shipper = bed.Create(start: false);
        for (var i = 0; i < 10; i++)
        {
            shipper.TryWrite(DeliveryTestBed.Record(i));
        }
        await bed.Shutdown(shipper);
        Assert.Equal(10, bed.Store.Objects.Count);
    }
}
