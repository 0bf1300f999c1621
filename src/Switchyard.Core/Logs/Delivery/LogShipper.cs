using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Logs.Stores;
using Switchyard.Core.Routing;

namespace Switchyard.Core.Logs.Delivery;

/// <summary>
/// Delivers request logs to a remote log store without losing them: a bounded queue off the request path, writers that
/// upload with retries under a circuit breaker, a spill directory for whatever the store cannot take now, and a drainer
/// that uploads the spill when the store is back (docs/log-delivery.md). The shipper does not dispose the store.
/// </summary>
public sealed class LogShipper : IRequestLogSink, ILogDeliveryStatus, IAsyncDisposable
{
    /// <summary>Records that found the queue full and wait for the spill task before a request thread writes one itself.</summary>
    internal const int OverflowCapacity = 1024;

    // Drops can come in floods (a full disk under load): one warning per interval carries the running count.
    private static readonly TimeSpan DropLogInterval = TimeSpan.FromMinutes(1);

    private readonly ILogObjectStore _store;
    private readonly Func<RequestLogRecord, LogObject> _serialize;
    private readonly LogDeliveryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<RequestLogRecord> _queue;
    private readonly Channel<RequestLogRecord> _overflow;
    private readonly DeliveryCounters _counters = new();
    private readonly ProgressSignal _progress = new();
    private readonly DeliveryCircuit _circuit;
    private readonly SpillDirectory _spill;
    private readonly LogUploader _uploader;
    private readonly SpillDrainer _drainer;
    // Stops the spill drainer when shutdown begins: the queue has the store to itself, the files wait for the next start.
    private readonly CancellationTokenSource _drainerStop = new();
    // Fires when shutdown's drain time is up: calls and retry waits end, and the rest goes to disk.
    private readonly CancellationTokenSource _deadline = new();
    private readonly Lazy<Task> _shutdown;
    private readonly object _start = new();
    private Task? _writers;
    private Task? _drainerRun;
    private long _inMemory;
    private long _lastDropLog = long.MinValue;

    public LogShipper(ILogObjectStore store, Func<RequestLogRecord, LogObject> serialize, LogDeliveryOptions options, int queueCapacity,
        TimeProvider time, ILogger logger)
    {
        _store = store;
        _serialize = serialize;
        _options = options;
        _time = time;
        _logger = logger;
        _queue = Channel.CreateBounded<RequestLogRecord>(new BoundedChannelOptions(Math.Max(1, queueCapacity))
        {
            // Wait mode makes TryWrite say "full" instead of silently discarding: a full queue spills, it never drops.
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = options.Writers == 1,
        });
        _overflow = Channel.CreateBounded<RequestLogRecord>(new BoundedChannelOptions(OverflowCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _circuit = new DeliveryCircuit(options.FailureThreshold, options.CircuitBackoff, time, logger, store.Kind);
        try
        {
            _spill = new SpillDirectory(options.SpillDirectory, options.SpillMaxBytes, options.SpillFsync, time, logger);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"Cannot use the log spill directory {options.SpillDirectory} (LOG_STORE_SPILL_PATH): {ex.Message} " +
                "Mount a writable volume there, or set LOG_STORE_SPILL_MAX_MB=0 to run without a spill.", ex);
        }
        _uploader = new LogUploader(store, _circuit, _counters, options, time, logger);
        _drainer = new SpillDrainer(_spill, _circuit, _uploader, _counters, _progress, options, time, logger);
        _shutdown = new Lazy<Task>(ShutdownAsync);
    }

    public string Store => _store.Kind;

    /// <summary>Records in memory: queued, waiting for the spill task, or being uploaded by a writer.</summary>
    public long QueueDepth => Interlocked.Read(ref _inMemory);

    public long SpilledRecords => _spill.Count;

    public long SpilledBytes => _spill.Bytes;

    public long Delivered => DeliveryCounters.Read(ref _counters.Delivered);

    public long Dropped => DeliveryCounters.Read(ref _counters.Dropped);

    public bool CircuitOpen => _circuit.IsOpen;

    /// <summary>Store calls that were a retry of a failed one.</summary>
    public long Retries => DeliveryCounters.Read(ref _counters.Retries);

    /// <summary>Store calls that failed or timed out.</summary>
    public long Failures => DeliveryCounters.Read(ref _counters.Failures);

    /// <summary>Records written to the spill directory since start.</summary>
    public long SpilledTotal => DeliveryCounters.Read(ref _counters.Spilled);

    /// <summary>Spilled records the store has since accepted (part of <see cref="Delivered"/>).</summary>
    public long UploadedFromSpill => DeliveryCounters.Read(ref _counters.UploadedFromSpill);

    /// <summary>Records that found the queue full (or closed by shutdown) and went to the spill directory instead.</summary>
    public long QueueFull => DeliveryCounters.Read(ref _counters.Overflowed);

    /// <summary>Spill files that could not be read back and were moved to <c>corrupt/</c>.</summary>
    public long Quarantined => _spill.Quarantined;

    /// <summary>The spill directory, as a full path.</summary>
    public string SpillPath => _spill.FullPath;

    /// <summary>Starts the writers and the spill drainer (which first uploads any spill an earlier process left).</summary>
    public void Start()
    {
        lock (_start)
        {
            if (_writers is not null)
            {
                return;
            }
            // Uploads are root spans: the tasks must not inherit whatever Activity the caller of Start has.
            using (ExecutionContext.SuppressFlow())
            {
                var loops = new List<Task>();
                for (var i = 0; i < Math.Max(1, _options.Writers); i++)
                {
                    loops.Add(Task.Run(WriteLoopAsync));
                }
                loops.Add(Task.Run(OverflowLoopAsync));
                _writers = Task.WhenAll(loops);
                _drainerRun = Task.Run(() => _drainer.RunAsync(_drainerStop.Token));
            }
        }
        _logger.LogInformation("Request logs go to {Store}: {Writers} writers, spill directory {Spill} (budget {Budget} MB)",
            _store.Kind, _options.Writers, _spill.FullPath, _options.SpillMaxBytes >> 20);
    }

    /// <summary>
    /// Takes a record without blocking: into the queue, or when it is full into a small buffer the spill task writes to
    /// disk, or when that is full too onto disk right here (one small file). False only when the record was dropped.
    /// </summary>
    public bool TryWrite(RequestLogRecord record)
    {
        Interlocked.Increment(ref _inMemory);
        if (_queue.Writer.TryWrite(record))
        {
            return true;
        }
        if (_overflow.Writer.TryWrite(record))
        {
            DeliveryCounters.Add(ref _counters.Overflowed);
            return true;
        }
        // Overloaded (or shutting down): writing here is the only way left that neither grows memory nor loses the record.
        DeliveryCounters.Add(ref _counters.Overflowed);
        try
        {
            return SpillRecord(record);
        }
        finally
        {
            // Only now: until the file is counted, the record must still count somewhere, or "drained" could be seen early.
            Interlocked.Decrement(ref _inMemory);
            _progress.Pulse();
        }
    }

    /// <summary>Completes when nothing waits in memory or in the spill directory (files set aside as corrupt do not count).</summary>
    public Task WhenDrainedAsync(CancellationToken ct = default) =>
        _progress.WaitUntilAsync(() => QueueDepth == 0 && SpilledRecords == 0, ct);

    /// <summary>
    /// Stops taking records into the queue, uploads what it holds until the drain deadline and spills the rest, then
    /// uploads spilled records while time is left; a record written after this still goes to the spill directory.
    /// </summary>
    public ValueTask DisposeAsync() => new(_shutdown.Value);

    private async Task ShutdownAsync()
    {
        // The deadline counts from the call, before anything here can yield.
        using var deadline = _time.CreateTimer(_ => _deadline.Cancel(), null, _options.DrainTimeout, Timeout.InfiniteTimeSpan);
        _queue.Writer.TryComplete();
        _overflow.Writer.TryComplete();
        await _drainerStop.CancelAsync().ConfigureAwait(false);
        // Never started (an engine used without Start): the queued records are still delivered.
        Start();
        await _writers!.ConfigureAwait(false);
        await _drainerRun!.ConfigureAwait(false);
        // The queue is empty: time left before the deadline goes to the spill.
        if (!_deadline.IsCancellationRequested)
        {
            await _drainer.FinalPassAsync(_deadline.Token).ConfigureAwait(false);
        }
        _logger.LogInformation("Request log delivery stopped: {Delivered} delivered, {Waiting} waiting in {Spill} for the next start, {Dropped} dropped",
            Delivered, SpilledRecords, _spill.FullPath, Dropped);
        _uploader.Dispose();
        _drainerStop.Dispose();
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<RequestLogRecord>(_options.BatchSize);
        var uploads = new Task[_options.BatchSize];
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _options.BatchSize && reader.TryRead(out var record))
            {
                batch.Add(record);
            }
            // The batch's uploads run side by side; the shared call limit keeps the store's load at LOG_STORE_WRITERS.
            for (var i = 0; i < batch.Count; i++)
            {
                uploads[i] = DeliverAsync(batch[i]);
            }
            await Task.WhenAll(uploads.AsSpan(0, batch.Count)).ConfigureAwait(false);
        }
    }

    private async Task OverflowLoopAsync()
    {
        var reader = _overflow.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var record))
            {
                try
                {
                    SpillRecord(record);
                }
                finally
                {
                    Interlocked.Decrement(ref _inMemory);
                    _progress.Pulse();
                }
            }
        }
    }

    /// <summary>Uploads one record, or spills it; never throws (a record that cannot go anywhere is counted as dropped).</summary>
    private async Task DeliverAsync(RequestLogRecord record)
    {
        try
        {
            if (Serialize(record) is { } obj && !await UploadWithRetriesAsync(obj).ConfigureAwait(false))
            {
                Spill(obj);
            }
        }
        catch (Exception ex)
        {
            // A defect, not a store failure: keep the writer alive and say what happened.
            Drop("unexpected error while delivering", ex);
        }
        finally
        {
            Interlocked.Decrement(ref _inMemory);
            _progress.Pulse();
        }
    }

    /// <summary>True when the store accepted the object; false when it is for the spill (circuit open, retries spent, deadline).</summary>
    private async Task<bool> UploadWithRetriesAsync(LogObject obj)
    {
        var stop = _deadline.Token;
        for (var attempt = 1; ; attempt++)
        {
            if (stop.IsCancellationRequested)
            {
                return false;
            }
            var permit = _circuit.TryBeginCall();
            if (permit == CallPermit.Denied)
            {
                return false;
            }
            if (attempt > 1)
            {
                DeliveryCounters.Add(ref _counters.Retries);
            }
            try
            {
                if (await _uploader.PutAsync(obj, permit, attempt, "queue", stop).ConfigureAwait(false))
                {
                    return true;
                }
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            // A failed probe re-opened the circuit; spent retries go to disk, where the drainer tries again later.
            if (permit == CallPermit.Probe || attempt > _options.RetryAttempts)
            {
                return false;
            }
            var delay = RetryDelays.Backoff(attempt, _options.RetryInitialDelay, _options.RetryMaxDelay, Random.Shared.NextDouble());
            try
            {
                await Task.Delay(delay, _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }

    /// <summary>Serialises and spills a record that skips the store; never throws (it is also called on the request path).</summary>
    private bool SpillRecord(RequestLogRecord record)
    {
        try
        {
            return Serialize(record) is { } obj && Spill(obj);
        }
        catch (Exception ex)
        {
            Drop("unexpected error while spilling", ex);
            return false;
        }
    }

    private LogObject? Serialize(RequestLogRecord record)
    {
        try
        {
            return _serialize(record);
        }
        catch (Exception ex)
        {
            Drop("the record could not be serialised", ex);
            return null;
        }
    }

    private bool Spill(LogObject obj)
    {
        SpillResult result;
        Exception? error;
        try
        {
            result = _spill.TryWrite(obj, out error);
        }
        catch (ArgumentException ex)
        {
            Drop("the record's key cannot be spilled", ex);
            return false;
        }
        switch (result)
        {
            case SpillResult.Spilled:
                DeliveryCounters.Add(ref _counters.Spilled);
                return true;
            case SpillResult.OverBudget:
                Drop($"the spill directory is at its budget of {_options.SpillMaxBytes >> 20} MB", null);
                return false;
            default:
                Drop("the spill directory cannot be written", error);
                return false;
        }
    }

    private void Drop(string reason, Exception? error)
    {
        DeliveryCounters.Add(ref _counters.Dropped);
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastDropLog);
        if (last != long.MinValue && _time.GetElapsedTime(last, now) < DropLogInterval)
        {
            return;
        }
        if (Interlocked.CompareExchange(ref _lastDropLog, now, last) != last)
        {
            return;
        }
        _logger.LogWarning(error, "Request log record dropped: {Reason}; {Dropped} dropped since start", reason, Dropped);
    }
}
