using Microsoft.Extensions.Logging;
using Switchyard.Core.Logs.Stores;

namespace Switchyard.Core.Logs.Delivery;

/// <summary>
/// One call to the log store at a time per permit: bounded concurrency shared by the queue writers and the spill drainer,
/// the per-call timeout on the engine clock, the upload span, and the outcome reported to the circuit breaker.
/// </summary>
internal sealed class LogUploader : IDisposable
{
    private readonly ILogObjectStore _store;
    private readonly DeliveryCircuit _circuit;
    private readonly DeliveryCounters _counters;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _calls;

    public LogUploader(ILogObjectStore store, DeliveryCircuit circuit, DeliveryCounters counters, LogDeliveryOptions options, TimeProvider time, ILogger logger)
    {
        _store = store;
        _circuit = circuit;
        _counters = counters;
        _timeout = options.CallTimeout;
        _time = time;
        _logger = logger;
        _calls = new SemaphoreSlim(Math.Max(1, options.Writers));
    }

    /// <summary>
    /// Puts one object; true when the store accepted it. Throws <see cref="OperationCanceledException"/> only when
    /// <paramref name="stop"/> ended the call, which then counts neither way.
    /// </summary>
    public async Task<bool> PutAsync(LogObject obj, CallPermit permit, int attempt, string from, CancellationToken stop)
    {
        try
        {
            await _calls.WaitAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _circuit.Abandoned(permit);
            throw;
        }
        try
        {
            using var activity = LogUploadTracing.Start(_store.Kind, obj.Key, attempt, from);
            using var timeout = new CancellationTokenSource(_timeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stop);
            try
            {
                await _store.PutAsync(obj.Key, obj.Content, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested && !timeout.IsCancellationRequested)
            {
                // Shutdown's deadline, not the store: the caller spills the object, and a PUT that landed anyway is harmless.
                LogUploadTracing.Fail(activity, "cancelled");
                _circuit.Abandoned(permit);
                throw;
            }
            catch (Exception ex)
            {
                var error = timeout.IsCancellationRequested ? "timeout" : ex.GetType().FullName ?? "error";
                LogUploadTracing.Fail(activity, error);
                DeliveryCounters.Add(ref _counters.Failures);
                _logger.LogDebug(ex, "Log store {Store}: upload of {Key} failed ({Error}), attempt {Attempt}", _store.Kind, obj.Key, error, attempt);
                _circuit.Failed(permit, timeout.IsCancellationRequested ? $"no answer within {_timeout.TotalMilliseconds} ms" : ex.Message);
                return false;
            }
            DeliveryCounters.Add(ref _counters.Delivered);
            _circuit.Succeeded(permit);
            return true;
        }
        finally
        {
            _calls.Release();
        }
    }

    public void Dispose() => _calls.Dispose();
}
