using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Switchyard.Core.Logs;
using Switchyard.Core.Logs.Delivery;
using Xunit;

namespace Switchyard.Tests.Logs.Delivery;

/// <summary>A spill directory, a fault-injectable store, a test clock and a log for one test; cleans up after it.</summary>
internal sealed class DeliveryTestBed : IAsyncDisposable
{
    // Generous: these bound waits for events, they do not time anything.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly List<LogShipper> _shippers = [];

    public DeliveryTestBed()
    {
        SpillPath = Directory.CreateTempSubdirectory("switchyard-spill-").FullName;
    }

    public string SpillPath { get; }

    public FaultyLogStore Store { get; } = new();

    public CapturingLogger Logger { get; } = new();

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));

    /// <summary>Settings for tests: the defaults, except the spill directory; retry delays of 1 s, so one second of test clock fires any pending retry.</summary>
    public LogDeliveryOptions Options => new()
    {
        SpillDirectory = SpillPath,
        RetryInitialDelay = TimeSpan.FromSeconds(1),
        RetryMaxDelay = TimeSpan.FromSeconds(1),
    };

    public LogShipper Create(LogDeliveryOptions? options = null, int queueCapacity = 10_000, FakeTimeProvider? clock = null, bool start = true)
    {
        var shipper = new LogShipper(Store, Serialize, options ?? Options, queueCapacity, clock ?? Clock, Logger);
        _shippers.Add(shipper);
        if (start)
        {
            shipper.Start();
        }
        return shipper;
    }

    public static string TraceId(int i) => "trace-" + i.ToString("D6", CultureInfo.InvariantCulture);

    public static string KeyOf(int i) => $"30/test-org/{TraceId(i)}.json";

    public static RequestLogRecord Record(int i) => new()
    {
        TraceId = TraceId(i),
        StartedAt = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero),
        Method = "POST",
        Path = "/v1/chat/completions",
        Function = "chatComplete",
        Provider = "openai",
        Status = 200,
    };

    /// <summary>The real JSON form of the record, under a key made from its trace id.</summary>
    public static LogObject Serialize(RequestLogRecord record) =>
        new($"30/test-org/{record.TraceId}.json", RequestLogDocument.Serialize(record));

    public string[] SpillFiles() => Directory.GetFiles(SpillPath, "*" + SpillDirectory.Extension);

    public string[] QuarantinedFiles() =>
        Directory.Exists(Path.Combine(SpillPath, "corrupt")) ? Directory.GetFiles(Path.Combine(SpillPath, "corrupt")) : [];

    /// <summary>Waits for a condition, moving the test clock by <paramref name="advance"/> between looks when given.</summary>
    public async Task Eventually(Func<bool> condition, string what, TimeSpan? advance = null, Func<string>? state = null)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            if (waited.Elapsed > Patience)
            {
                Assert.Fail($"Still waiting for: {what} {state?.Invoke()}");
            }
            if (advance is { } step)
            {
                Clock.Advance(step);
            }
            await Task.Delay(2);
        }
    }

    /// <summary>Waits for the shipper's drained signal (queue and spill empty), moving the clock when asked so backoffs pass.</summary>
    public async Task Drained(LogShipper shipper, TimeSpan? advance = null)
    {
        var drained = shipper.WhenDrainedAsync();
        await Eventually(() => drained.IsCompleted, "drained", advance, () => $"(queue {shipper.QueueDepth}, spill {shipper.SpilledRecords})");
        await drained;
    }

    /// <summary>Shuts the shipper down, moving the clock by <paramref name="advance"/> while it drains (the drain deadline is on the test clock).</summary>
    public async Task Shutdown(LogShipper shipper, TimeSpan? advance = null)
    {
        var done = shipper.DisposeAsync().AsTask();
        await Eventually(() => done.IsCompleted, "shutdown", advance);
        await done;
    }

    /// <summary>Polls briefly: for checks that something does not happen before the clock says it may.</summary>
    public static Task Settle() => Task.Delay(200);

    public async ValueTask DisposeAsync()
    {
        Store.Release();
        foreach (var shipper in _shippers)
        {
            await Shutdown(shipper, TimeSpan.FromSeconds(1));
        }
        try
        {
            Directory.Delete(SpillPath, true);
        }
        catch (IOException)
        {
            // A temp directory left behind is not the test's concern.
        }
    }
}
