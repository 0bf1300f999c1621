using Microsoft.Extensions.Time.Testing;
using Switchyard.Core.Logs;
using Switchyard.Core.Logs.Delivery;
using Xunit;

namespace Switchyard.Tests.Logs.Delivery;

/// <summary>The spill directory: a full queue spills instead of dropping, only the disk budget drops, and the spill survives restarts and crashes.</summary>
public sealed class LogShipperSpillTests
{
    [Fact]
    public async Task A_full_queue_spills_to_disk_instead_of_dropping_and_the_request_path_does_not_wait_for_the_store()
    {
        await using var bed = new DeliveryTestBed();
        var shipper = bed.Create(bed.Options with { Writers = 1, BatchSize = 1 }, queueCapacity: 4);
        bed.Store.Hold();
        const int n = 4 + 1 + LogShipper.OverflowCapacity + 300;

        // The writer takes the first record into a call that hangs; the queue then holds four more.
        Assert.True(shipper.TryWrite(DeliveryTestBed.Record(0)));
        await bed.Eventually(() => bed.Store.Calls == 1, "the writer's call");
        // The store answers nothing, yet every write returns (the bound is generous; a blocked writer would hang here).
        var accepted = await Task.Run(() => Enumerable.Range(1, n - 1).Count(i => shipper.TryWrite(DeliveryTestBed.Record(i))))
            .WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(n - 1, accepted);

        // One record in the writer's hung call, four in the queue, every other one on disk.
        await bed.Eventually(() => shipper.QueueDepth == 5 && shipper.SpilledRecords == n - 5,
            "the overflow on disk", state: () => $"(queue {shipper.QueueDepth}, spilled {shipper.SpilledRecords}, dropped {shipper.Dropped}, calls {bed.Store.Calls})");
        Assert.Equal(n - 5, shipper.QueueFull);
        Assert.Equal(0, shipper.Dropped);
        Assert.Equal(1, bed.Store.Calls);

        bed.Store.Release();
        await bed.Drained(shipper);
        Assert.Equal(n, bed.Store.Objects.Count);
        Assert.All(bed.Store.Puts.Values, count => Assert.Equal(1, count));
        Assert.Empty(bed.SpillFiles());
    }

    [Fact]
    public async Task Only_an_exhausted_disk_budget_drops_records_and_each_drop_is_counted_and_reported_at_most_once_a_minute()
    {
        await using var bed = new DeliveryTestBed();
        var fileSize = SpillFileFormat.Encode(DeliveryTestBed.Serialize(DeliveryTestBed.Record(0))).Length;
        var shipper = bed.Create(bed.Options with
        {
            Writers = 1,
            FailureThreshold = 1,
            RetryAttempts = 0,
            SpillMaxBytes = 10L * fileSize + fileSize / 2,
        });
        bed.Store.Down = true;
        for (var i = 0; i < 30; i++)
        {
            shipper.TryWrite(DeliveryTestBed.Record(i));
        }

        await bed.Eventually(() => shipper.QueueDepth == 0 && shipper.SpilledRecords + shipper.Dropped == 30, "every record spilled or dropped");
        Assert.Equal(10, shipper.SpilledRecords);
        Assert.Equal(10L * fileSize, shipper.SpilledBytes);
        Assert.Equal(20, shipper.Dropped);
        Assert.Equal(10, bed.SpillFiles().Length);
        Assert.Equal(1, bed.Logger.Count(LogLevel.Warning, "dropped"));

        // A minute on: the next drop is reported again, with the running count.
        bed.Clock.Advance(TimeSpan.FromSeconds(61));
        shipper.TryWrite(DeliveryTestBed.Record(30));
        await bed.Eventually(() => shipper.Dropped == 21, "the 21st drop");
        await bed.Eventually(() => bed.Logger.Count(LogLevel.Warning, "dropped") == 2, "a second drop warning");
        Assert.Contains(bed.Logger.Entries, e => e.Message.Contains("21 dropped since start", StringComparison.Ordinal));

        bed.Store.Down = false;
        await bed.Drained(shipper, TimeSpan.FromSeconds(5));
        Assert.Equal(10, bed.Store.Objects.Count);
        Assert.Equal(10, shipper.Delivered);
        Assert.Equal(21, shipper.Dropped);
    }

    [Fact]
    public async Task With_spilling_off_a_record_the_store_cannot_take_is_dropped_and_counted()
    {
        await using var bed = new DeliveryTestBed();
        var shipper = bed.Create(bed.Options with { Writers = 1, FailureThreshold = 1, RetryAttempts = 0, SpillMaxBytes = 0 });
        bed.Store.Down = true;
        for (var i = 0; i < 5; i++)
        {
            shipper.TryWrite(DeliveryTestBed.Record(i));
        }
        await bed.Eventually(() => shipper.Dropped == 5 && shipper.QueueDepth == 0, "five drops");
        Assert.Equal(0, shipper.SpilledRecords);
        Assert.Empty(bed.SpillFiles());
    }

    [Fact]
    public async Task A_spill_left_by_a_previous_process_is_uploaded_by_the_next()
    {
        await using var bed = new DeliveryTestBed();
        var options = bed.Options with { FailureThreshold = 1, RetryAttempts = 0 };
        var first = bed.Create(options);
        bed.Store.Down = true;
        for (var i = 0; i < 50; i++)
        {
            first.TryWrite(DeliveryTestBed.Record(i));
        }
        await bed.Eventually(() => first.SpilledRecords == 50 && first.QueueDepth == 0, "50 spilled");
        await bed.Shutdown(first, TimeSpan.FromSeconds(1));
        Assert.Equal(50, bed.SpillFiles().Length);
        Assert.Empty(bed.Store.Objects);

        bed.Store.Down = false;
        var second = bed.Create(options, clock: new FakeTimeProvider(bed.Clock.GetUtcNow()));
        Assert.Equal(50, second.SpilledRecords);
        await bed.Drained(second);

        Assert.Equal(50, bed.Store.Objects.Count);
        Assert.All(bed.Store.Puts.Values, count => Assert.Equal(1, count));
        Assert.Equal(50, second.UploadedFromSpill);
        Assert.Empty(bed.SpillFiles());
        Assert.Equal(1, bed.Logger.Count(LogLevel.Information, "Found 50 spilled log records"));
    }

    [Fact]
    public async Task A_crash_between_upload_and_delete_still_leaves_one_object_per_record()
    {
        await using var bed = new DeliveryTestBed();
        var options = bed.Options with { FailureThreshold = 1, RetryAttempts = 0 };
        var first = bed.Create(options);
        bed.Store.Down = true;
        for (var i = 0; i < 20; i++)
        {
            first.TryWrite(DeliveryTestBed.Record(i));
        }
        await bed.Eventually(() => first.SpilledRecords == 20 && first.QueueDepth == 0, "20 spilled");
        await bed.Shutdown(first, TimeSpan.FromSeconds(1));
        // The disk as it was when the uploads began: restoring it afterwards is a crash after every PUT and before any delete.
        var atCrash = bed.SpillFiles().ToDictionary(f => f, File.ReadAllBytes);

        bed.Store.Down = false;
        var second = bed.Create(options, clock: new FakeTimeProvider(bed.Clock.GetUtcNow()));
        await bed.Drained(second);
        await bed.Shutdown(second);
        var uploaded = bed.Store.Objects.ToDictionary(o => o.Key, o => o.Value);
        foreach (var (path, bytes) in atCrash)
        {
            File.WriteAllBytes(path, bytes);
        }

        var third = bed.Create(options, clock: new FakeTimeProvider(bed.Clock.GetUtcNow()));
        await bed.Drained(third);

        Assert.Equal(20, third.UploadedFromSpill);
        Assert.Equal(Enumerable.Range(0, 20).Select(DeliveryTestBed.KeyOf).Order(), bed.Store.Objects.Keys.Order());
        Assert.All(uploaded, o => Assert.Equal(o.Value, bed.Store.Objects[o.Key]));
        Assert.All(bed.Store.Puts.Values, count => Assert.Equal(2, count));
        Assert.Empty(bed.SpillFiles());
    }

    [Fact]
    public async Task A_corrupt_or_torn_spill_file_is_set_aside_and_logged_and_delivery_goes_on()
    {
        await using var bed = new DeliveryTestBed();
        var spill = new SpillDirectory(bed.SpillPath, 1L << 20, fsync: false, bed.Clock, bed.Logger);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(SpillResult.Spilled, spill.TryWrite(DeliveryTestBed.Serialize(DeliveryTestBed.Record(i)), out _));
        }
        var whole = File.ReadAllBytes(bed.SpillFiles()[0]);
        // Named to sort first, so the drainer meets them before the good files.
        File.WriteAllBytes(Path.Combine(bed.SpillPath, "0000000000000000001-00000000-000000000001.spill"), whole[..(whole.Length / 2)]);
        File.WriteAllBytes(Path.Combine(bed.SpillPath, "0000000000000000001-00000000-000000000002.spill"), "not a spill file at all"u8.ToArray());

        var shipper = bed.Create();
        await bed.Drained(shipper);

        Assert.Equal(3, bed.Store.Objects.Count);
        Assert.Equal(2, shipper.Quarantined);
        Assert.Equal(2, bed.QuarantinedFiles().Length);
        Assert.Equal(2, bed.Logger.Count(LogLevel.Warning, "cannot be read back"));
        Assert.Empty(bed.SpillFiles());

        // The writers and the drainer are still alive.
        shipper.TryWrite(DeliveryTestBed.Record(9));
        await bed.Drained(shipper);
        Assert.True(bed.Store.Objects.ContainsKey(DeliveryTestBed.KeyOf(9)));
    }

    [Fact]
    public async Task A_file_caught_between_write_and_rename_is_recovered_when_whole_and_set_aside_when_torn()
    {
        await using var bed = new DeliveryTestBed();
        var whole = SpillFileFormat.Encode(DeliveryTestBed.Serialize(DeliveryTestBed.Record(1)));
        var torn = SpillFileFormat.Encode(DeliveryTestBed.Serialize(DeliveryTestBed.Record(2)))[..40];
        File.WriteAllBytes(Path.Combine(bed.SpillPath, "0638000000000000000-0000000a-000000000001.spill.tmp"), whole);
        File.WriteAllBytes(Path.Combine(bed.SpillPath, "0638000000000000000-0000000a-000000000002.spill.tmp"), torn);

        var shipper = bed.Create();
        await bed.Drained(shipper);

        Assert.Equal(new[] { DeliveryTestBed.KeyOf(1) }, bed.Store.Objects.Keys);
        Assert.Single(bed.QuarantinedFiles());
        Assert.Empty(Directory.GetFiles(bed.SpillPath));
    }

    [Fact]
    public async Task A_spill_directory_that_cannot_be_made_stops_start_up_with_the_setting_named()
    {
        await using var bed = new DeliveryTestBed();
        var blocker = Path.Combine(bed.SpillPath, "a-file");
        await File.WriteAllTextAsync(blocker, "in the way");
        var error = Assert.Throws<InvalidOperationException>(() =>
            new LogShipper(bed.Store, DeliveryTestBed.Serialize, bed.Options with { SpillDirectory = Path.Combine(blocker, "spill") }, 10, bed.Clock, bed.Logger));
        Assert.Contains("LOG_STORE_SPILL_PATH", error.Message, StringComparison.Ordinal);
        Assert.Contains("LOG_STORE_SPILL_MAX_MB=0", error.Message, StringComparison.Ordinal);
    }
}
