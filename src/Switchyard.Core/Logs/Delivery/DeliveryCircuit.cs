using Microsoft.Extensions.Logging;

namespace Switchyard.Core.Logs.Delivery;

/// <summary>
/// The log store's circuit breaker: closed until <c>threshold</c> consecutive calls fail, then open (no calls) for the
/// backoff, then half-open for exactly one probe call whose outcome closes or re-opens it.
/// </summary>
internal sealed class DeliveryCircuit
{
    private enum State
    {
        Closed,
        Open,
        HalfOpen,
    }

    private readonly object _gate = new();
    private readonly int _threshold;
    private readonly TimeSpan _backoff;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _store;
    private State _state;
    private int _consecutiveFailures;
    private DateTimeOffset _probeAt;
    // Read without the lock on every call: the closed path must not contend between writers.
    private volatile bool _closed = true;

    public DeliveryCircuit(int threshold, TimeSpan backoff, TimeProvider time, ILogger logger, string store)
    {
        _threshold = Math.Max(1, threshold);
        _backoff = backoff;
        _time = time;
        _logger = logger;
        _store = store;
    }

    /// <summary>Raised after every state change (outside the lock), so the spill drainer can look again.</summary>
    public event Action? Changed;

    /// <summary>Open or half-open: calls are held back.</summary>
    public bool IsOpen => !_closed;

    public CallPermit TryBeginCall()
    {
        if (_closed)
        {
            return CallPermit.Allowed;
        }
        lock (_gate)
        {
            switch (_state)
            {
                case State.Closed:
                    return CallPermit.Allowed;
                case State.Open when _time.GetUtcNow() >= _probeAt:
                    _state = State.HalfOpen;
                    _logger.LogInformation("Log store {Store}: circuit half-open, probing with one upload", _store);
                    return CallPermit.Probe;
                default:
                    return CallPermit.Denied;
            }
        }
    }

    /// <summary>Zero when a call may be tried now; the wait until the probe is due; null while a probe is out.</summary>
    public TimeSpan? UntilCallAllowed()
    {
        if (_closed)
        {
            return TimeSpan.Zero;
        }
        lock (_gate)
        {
            return _state switch
            {
                State.Closed => TimeSpan.Zero,
                State.HalfOpen => null,
                _ => _probeAt - _time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
            };
        }
    }

    public void Succeeded(CallPermit permit)
    {
        if (_closed && Volatile.Read(ref _consecutiveFailures) == 0)
        {
            return;
        }
        var changed = false;
        lock (_gate)
        {
            _consecutiveFailures = 0;
            // Only the probe's answer closes the circuit: a call that began before it opened says little about now.
            if (permit == CallPermit.Probe && _state == State.HalfOpen)
            {
                _state = State.Closed;
                _closed = true;
                changed = true;
                _logger.LogInformation("Log store {Store}: probe succeeded, circuit closed; uploading the spill", _store);
            }
        }
        if (changed)
        {
            Changed?.Invoke();
        }
    }

    public void Failed(CallPermit permit, string error)
    {
        var changed = false;
        lock (_gate)
        {
            if (permit == CallPermit.Probe && _state == State.HalfOpen)
            {
                Open();
                changed = true;
                _logger.LogWarning("Log store {Store}: probe failed ({Error}), circuit stays open for {Backoff} ms", _store, error, _backoff.TotalMilliseconds);
            }
            else if (_state == State.Closed && ++_consecutiveFailures >= _threshold)
            {
                var failures = _consecutiveFailures;
                Open();
                changed = true;
                _logger.LogWarning("Log store {Store}: {Failures} calls failed in a row (last: {Error}), circuit open; records go to the spill directory for {Backoff} ms",
                    _store, failures, error, _backoff.TotalMilliseconds);
            }
        }
        if (changed)
        {
            Changed?.Invoke();
        }
    }

    /// <summary>A probe that ended without an answer (shutdown): the next caller may probe at once.</summary>
    public void Abandoned(CallPermit permit)
    {
        if (permit != CallPermit.Probe)
        {
            return;
        }
        lock (_gate)
        {
            if (_state == State.HalfOpen)
            {
                _state = State.Open;
                _probeAt = _time.GetUtcNow();
            }
        }
        Changed?.Invoke();
    }

    private void Open()
    {
        _state = State.Open;
        _closed = false;
        _consecutiveFailures = 0;
        _probeAt = _time.GetUtcNow() + _backoff;
    }
}
