using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Switchyard.Core.Logs.Delivery;

/// <summary>
/// Uploads the spill directory, oldest file first, and deletes each file only after the store accepted it. While the
/// circuit is open it sleeps until the probe is due, then probes with the oldest file; it also finds a spill left by an
/// earlier process, since that is simply what the directory holds at start.
/// </summary>
internal sealed class SpillDrainer
{
    private readonly SpillDirectory _spill;
    private readonly DeliveryCircuit _circuit;
    private readonly LogUploader _uploader;
    private readonly DeliveryCounters _counters;
    private readonly ProgressSignal _progress;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _parallelism;
    private readonly TimeSpan _pauseAfterFailures;
    // A wake-up, not a queue: one pending kick is as good as many.
    private readonly Channel<bool> _kick = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public SpillDrainer(SpillDirectory spill, DeliveryCircuit circuit, LogUploader uploader, DeliveryCounters counters, ProgressSignal progress,
        LogDeliveryOptions options, TimeProvider time, ILogger logger)
    {
        _spill = spill;
        _circuit = circuit;
        _uploader = uploader;
        _counters = counters;
        _progress = progress;
        _time = time;
        _logger = logger;
        _parallelism = Math.Max(1, options.Writers);
        _pauseAfterFailures = options.RetryMaxDelay;
        spill.Added += Kick;
        circuit.Changed += Kick;
    }

    public void Kick() => _kick.Writer.TryWrite(true);

    public async Task RunAsync(CancellationToken stop)
    {
        // Say when a spill from an outage or an earlier run is gone, not after every overflow the store absorbed.
        var announce = _spill.Count > 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (_spill.Count <= 0)
                {
                    await WaitForKickAsync(null, stop).ConfigureAwait(false);
                    continue;
                }
                var wait = _circuit.UntilCallAllowed();
                if (wait != TimeSpan.Zero)
                {
                    announce = true;
                    // Open: sleep until the probe is due (or the circuit changes); half-open: until the probe's answer.
                    await WaitForKickAsync(wait, stop).ConfigureAwait(false);
                    continue;
                }
                var outcome = await DrainPassAsync(stop).ConfigureAwait(false);
                if (announce && _spill.Count == 0)
                {
                    announce = false;
                    _logger.LogInformation("Spill directory empty again: {Uploaded} spilled records uploaded since start",
                        DeliveryCounters.Read(ref _counters.UploadedFromSpill));
                }
                switch (outcome)
                {
                    case PassOutcome.NothingListed:
                        // Counted files not yet renamed into place: their writer kicks when they are.
                        await WaitForKickAsync(_pauseAfterFailures, stop).ConfigureAwait(false);
                        break;
                    case PassOutcome.Failures when !_circuit.IsOpen:
                        // Some uploads failed yet the circuit holds: do not hammer the store (or a file it keeps refusing).
                        await Task.Delay(_pauseAfterFailures, _time, stop).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Shutdown: whatever is still on disk is uploaded by the next start.
        }
    }

    /// <summary>
    /// One pass over the spill with whatever drain time shutdown has left, so a spill from an outage that has ended does
    /// not depend on the next start finding the same disk (an <c>emptyDir</c> does not outlive its pod).
    /// </summary>
    public async Task FinalPassAsync(CancellationToken stop)
    {
        try
        {
            if (_spill.Count > 0 && _circuit.UntilCallAllowed() == TimeSpan.Zero)
            {
                await DrainPassAsync(stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Out of time: the rest stays on disk.
        }
    }

    private enum PassOutcome
    {
        /// <summary>Every listed file was uploaded or set aside.</summary>
        Clean,

        /// <summary>The circuit stopped the pass (it opened, or another caller holds the probe): look at it again.</summary>
        Interrupted,

        /// <summary>Some uploads failed.</summary>
        Failures,

        /// <summary>The directory listed no file.</summary>
        NothingListed,
    }

    private async Task<PassOutcome> DrainPassAsync(CancellationToken stop)
    {
        var files = _spill.Snapshot();
        if (files.Count == 0)
        {
            return PassOutcome.NothingListed;
        }
        var next = 0;
        var stuck = 0;
        // A half-open circuit allows exactly one call: make it alone before fanning out.
        while (next < files.Count && _circuit.IsOpen)
        {
            switch (await UploadAsync(files[next++], stop).ConfigureAwait(false))
            {
                case FileOutcome.Denied:
                    return PassOutcome.Interrupted;
                case FileOutcome.Failed:
                    return PassOutcome.Failures;
                case FileOutcome.Stuck:
                    stuck++;
                    break;
            }
        }
        var failures = stuck;
        var denied = 0;
        using var pass = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var options = new ParallelOptions { MaxDegreeOfParallelism = _parallelism, CancellationToken = pass.Token };
        try
        {
            await Parallel.ForEachAsync(files.Skip(next), options, async (entry, _) =>
            {
                // The whole shutdown token, not the pass's: a refusal elsewhere must not cut uploads already under way.
                switch (await UploadAsync(entry, stop).ConfigureAwait(false))
                {
                    case FileOutcome.Failed or FileOutcome.Stuck:
                        Interlocked.Increment(ref failures);
                        break;
                    case FileOutcome.Denied:
                        // The circuit opened under this pass: the rest of the list would only be refused too.
                        Interlocked.Increment(ref denied);
                        await pass.CancelAsync().ConfigureAwait(false);
                        break;
                }
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            // Ended by a refusal above.
        }
        return failures > 0 ? PassOutcome.Failures : denied > 0 ? PassOutcome.Interrupted : PassOutcome.Clean;
    }

    private enum FileOutcome
    {
        Uploaded,
        Skipped,
        Stuck,
        Failed,
        Denied,
    }

    private async Task<FileOutcome> UploadAsync(SpillEntry entry, CancellationToken stop)
    {
        var permit = _circuit.TryBeginCall();
        if (permit == CallPermit.Denied)
        {
            return FileOutcome.Denied;
        }
        var obj = _spill.TryRead(entry, out var stuck);
        if (obj is null)
        {
            // Damaged (now set aside) or gone: give the permit back unused; a probe may then be made with the next file.
            _circuit.Abandoned(permit);
            _progress.Pulse();
            // A file that stays unreadable where it is must pace the passes like a failed upload, or they would spin.
            return stuck ? FileOutcome.Stuck : FileOutcome.Skipped;
        }
        if (!await _uploader.PutAsync(obj, permit, 1, "spill", stop).ConfigureAwait(false))
        {
            return FileOutcome.Failed;
        }
        _spill.Delete(entry);
        DeliveryCounters.Add(ref _counters.UploadedFromSpill);
        _progress.Pulse();
        return FileOutcome.Uploaded;
    }

    private async Task WaitForKickAsync(TimeSpan? timeout, CancellationToken stop)
    {
        if (timeout is not { } limit)
        {
            await _kick.Reader.WaitToReadAsync(stop).ConfigureAwait(false);
            _kick.Reader.TryRead(out _);
            return;
        }
        using var both = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var kicked = _kick.Reader.WaitToReadAsync(both.Token).AsTask();
        var elapsed = Task.Delay(limit, _time, both.Token);
        await Task.WhenAny(kicked, elapsed).ConfigureAwait(false);
        // Cancel the loser so no timer lingers on the clock.
        both.Cancel();
        stop.ThrowIfCancellationRequested();
        _kick.Reader.TryRead(out _);
        try
        {
            await Task.WhenAll(kicked, elapsed).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The loser's cancellation, expected.
        }
    }
}
