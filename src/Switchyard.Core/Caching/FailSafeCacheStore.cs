using Microsoft.Extensions.Logging;

namespace Switchyard.Core.Caching;

/// <summary>
/// Keeps a slow or unreachable store off the request path: every operation is bounded by a short timeout, a failure
/// reads as a miss (writes are dropped), and after <see cref="TripAfter"/> failures in a row the store is skipped for
/// <see cref="RetryInterval"/> before one operation probes it again. The store's own client reconnects by itself.
/// </summary>
public sealed class FailSafeCacheStore : ICacheStore
{
    public const int TripAfter = 3;

    private readonly ICacheStore _inner;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger? _logger;
    private readonly object _lock = new();
    private int _consecutive;
    private DateTimeOffset _skipUntil;
    private long _errors;
    private long _timeouts;
    private long _skipped;
    private string? _lastError;

    public FailSafeCacheStore(ICacheStore inner, TimeSpan timeout, TimeProvider? time = null, ILogger? logger = null, TimeSpan? retryInterval = null)
    {
        _inner = inner;
        _timeout = timeout;
        // The system clock only for stores built outside the engine (tests); SwitchyardEngine passes its own.
        _time = time ?? TimeProvider.System;
        _logger = logger;
        RetryInterval = retryInterval ?? TimeSpan.FromSeconds(1);
    }

    public string Kind => _inner.Kind;

    public TimeSpan RetryInterval { get; }

    /// <summary>Bound on a lookup (<c>CACHE_TIMEOUT_MS</c>): the longest the cache may hold a request.</summary>
    public TimeSpan Timeout => _timeout;

    /// <summary>Bound on writes: four lookups' worth, at least a second.</summary>
    public TimeSpan WriteTimeout => _timeout * 4 > TimeSpan.FromSeconds(1) ? _timeout * 4 : TimeSpan.FromSeconds(1);

    public ICacheStore Inner => _inner;

    /// <summary>Null while the last operation succeeded; else the last failure.</summary>
    public string? Problem
    {
        get
        {
            lock (_lock)
            {
                return _consecutive > 0 ? _lastError ?? _inner.Problem : null;
            }
        }
    }

    /// <summary>Operations that failed (timeouts included) since start.</summary>
    public long Errors => Interlocked.Read(ref _errors);

    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <summary>Operations not attempted because the store was failing.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    public ValueTask<byte[]?> GetAsync(string key, CancellationToken ct) =>
        GuardAsync("get", c => _inner.GetAsync(key, c), null, ct);

    public async ValueTask SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan ttl, CancellationToken ct) =>
        await GuardAsync("set", async c => { await _inner.SetAsync(key, value, ttl, c).ConfigureAwait(false); return true; }, false, ct, write: true).ConfigureAwait(false);

    public async ValueTask DeleteAsync(string key, CancellationToken ct) =>
        await GuardAsync("delete", async c => { await _inner.DeleteAsync(key, c).ConfigureAwait(false); return true; }, false, ct).ConfigureAwait(false);

    public ValueTask<long> AppendAsync(string key, ReadOnlyMemory<byte> item, TimeSpan ttl, int maxLength, CancellationToken ct) =>
        GuardAsync("append", c => _inner.AppendAsync(key, item, ttl, maxLength, c), -1L, ct, write: true);

    public ValueTask<ListRead> ReadListAsync(string key, int start, CancellationToken ct) =>
        GuardAsync("read_list", c => _inner.ReadListAsync(key, start, c), new ListRead(start, []), ct);

    private async ValueTask<T> GuardAsync<T>(string operation, Func<CancellationToken, ValueTask<T>> run, T fallback, CancellationToken ct, bool write = false)
    {
        if (Skipping())
        {
            Interlocked.Increment(ref _skipped);
            return fallback;
        }
        // A write happens after the answer has reached the client (only its end waits), so it may take longer than a lookup.
        var timeout = write ? WriteTimeout : _timeout;
        using var scope = CancellationTokenSource.CreateLinkedTokenSource(ct);
        scope.CancelAfter(timeout);
        try
        {
            // WaitAsync bounds the wait even if the store's client ignores cancellation somewhere.
            var result = await run(scope.Token).AsTask().WaitAsync(timeout, _time, ct).ConfigureAwait(false);
            Succeeded();
            return result;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            Interlocked.Increment(ref _timeouts);
            Failed(operation, $"{_inner.Kind} did not answer a {operation} within {(int)timeout.TotalMilliseconds} ms");
            return fallback;
        }
        catch (Exception ex)
        {
            Failed(operation, $"{_inner.Kind} {operation} failed: {ex.Message}");
            return fallback;
        }
    }

    private bool Skipping()
    {
        lock (_lock)
        {
            if (_consecutive < TripAfter || _time.GetUtcNow() >= _skipUntil)
            {
                return false;
            }
            return true;
        }
    }

    private void Succeeded()
    {
        lock (_lock)
        {
            if (_consecutive >= TripAfter)
            {
                _logger?.LogInformation("Cache store {Kind} is answering again", _inner.Kind);
            }
            _consecutive = 0;
        }
    }

    private void Failed(string operation, string message)
    {
        Interlocked.Increment(ref _errors);
        CacheMetrics.Errors.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("store", _inner.Kind));
        lock (_lock)
        {
            _lastError = message;
            _consecutive++;
            if (_consecutive >= TripAfter)
            {
                if (_consecutive == TripAfter)
                {
                    _logger?.LogWarning("Cache store {Kind} is failing ({Message}); requests bypass the cache and it is retried every {Interval} ms",
                        _inner.Kind, message, (int)RetryInterval.TotalMilliseconds);
                }
                _skipUntil = _time.GetUtcNow() + RetryInterval;
            }
        }
    }
}
