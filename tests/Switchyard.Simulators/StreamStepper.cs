namespace Switchyard.Simulators;

/// <summary>
/// Tracks events of the most recently started stream and, in step mode, holds each event until the
/// test releases it, so a test can see whether a gateway forwards an event before the next exists.
/// </summary>
internal sealed class StreamStepper
{
    private readonly ChangeSignal _progress = new();
    private readonly Lock _gateLock = new();
    private SemaphoreSlim _gate = new(0);
    private volatile bool _stepMode;
    private StreamProgress? _current;

    public bool StepMode
    {
        get => _stepMode;
        set
        {
            lock (_gateLock)
            {
                if (_stepMode == value)
                {
                    return;
                }

                _stepMode = value;

                // A fresh gate drops releases left over from an earlier test; streams parked on the old
                // gate are let go when step mode ends so they do not hang.
                var old = _gate;
                _gate = new SemaphoreSlim(0);
                if (!value)
                {
                    old.Release(int.MaxValue / 2);
                }
            }
        }
    }

    public void ReleaseNext()
    {
        lock (_gateLock)
        {
            _gate.Release();
        }
    }

    public StreamProgress BeginStream()
    {
        var progress = new StreamProgress(this);
        Volatile.Write(ref _current, progress);
        _progress.Pulse();
        return progress;
    }

    /// <summary>Forgets the current stream, so later waits only count events of streams started afterwards.</summary>
    public void Reset()
    {
        Volatile.Write(ref _current, null);
        _progress.Pulse();
    }

    /// <summary>In step mode, waits for a release (or cancellation); otherwise returns at once.</summary>
    public Task WaitTurnAsync(CancellationToken ct)
    {
        if (!_stepMode)
        {
            return Task.CompletedTask;
        }

        SemaphoreSlim gate;
        lock (_gateLock)
        {
            gate = _gate;
        }

        return gate.WaitAsync(ct);
    }

    public Task WaitForEventsAsync(int count, TimeSpan timeout) =>
        _progress.WaitUntilAsync(() => Volatile.Read(ref _current)?.Events >= count, timeout, $"{count} stream events");

    private void OnEvent() => _progress.Pulse();

    /// <summary>Event counter of one stream.</summary>
    internal sealed class StreamProgress(StreamStepper owner)
    {
        private int _events;

        public int Events => Volatile.Read(ref _events);

        public void CountEvent()
        {
            Interlocked.Increment(ref _events);
            owner.OnEvent();
        }
    }
}
