namespace Switchyard.Redis;

/// <summary>
/// The connections to one server: a fixed number of pipelined connections used round-robin. A broken connection is
/// replaced by the next caller that picks it. After a failed connect the node backs off (exponential delay with
/// jitter): commands fail at once instead of each trying to connect, until one caller may probe again.
/// </summary>
internal sealed class RedisNode : IAsyncDisposable
{
    private readonly RedisEndpoint _endpoint;
    private readonly Func<CancellationToken, ValueTask<string>>? _passwordProvider;
    private readonly RedisClientOptions _options;
    private readonly CancellationToken _clientLifetime;
    private readonly RedisConnection?[] _connections;
    private readonly Task<RedisConnection>?[] _connecting;
    private readonly Lock _gate = new();
    private uint _next;
    private int _failures;
    private long _retryAt;
    private string? _lastError;
    private int _connectAttempts;
    private bool _disposed;

    public RedisNode(RedisEndpoint endpoint, RedisClientOptions options, CancellationToken clientLifetime)
    {
        _endpoint = endpoint;
        _options = options;
        _passwordProvider = options.PasswordProvider;
        _clientLifetime = clientLifetime;
        _connections = new RedisConnection?[Math.Max(1, options.ConnectionsPerNode)];
        _connecting = new Task<RedisConnection>?[_connections.Length];
    }

    /// <summary>host:port, the form MOVED and ASK replies name nodes by.</summary>
    public string Name => _endpoint.ToString();

    public RedisEndpoint Endpoint => _endpoint;

    /// <summary>Why the last connect failed or the last connection broke; null once a connect succeeds.</summary>
    public string? LastError => Volatile.Read(ref _lastError);

    public bool HasLiveConnection
    {
        get
        {
            foreach (var connection in _connections)
            {
                if (connection is { IsBroken: false })
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>How many times this node tried to open a connection (tests check there is no connect storm).</summary>
    public int ConnectAttempts => Volatile.Read(ref _connectAttempts);

    public ValueTask<RedisConnection> GetConnectionAsync()
    {
        var index = (int)(Interlocked.Increment(ref _next) % (uint)_connections.Length);
        var connection = Volatile.Read(ref _connections[index]);
        return connection is { IsBroken: false } ? new(connection) : new(ReplaceAsync(index));
    }

    /// <summary>Records that a command on this node's connection broke it, so health shows it before the next connect.</summary>
    public void ReportFailure(string message) => Volatile.Write(ref _lastError, message);

    private Task<RedisConnection> ReplaceAsync(int index)
    {
        // Only decisions and field updates happen under the lock; the connect itself starts after it is released.
        // (Starting it inside the lock and leaving with Task.Yield left the lock held in the published, trimmed build.)
        RedisConnection? live;
        TaskCompletionSource<RedisConnection> started;
        lock (_gate)
        {
            if (_disposed)
            {
                return Task.FromException<RedisConnection>(new ObjectDisposedException(nameof(RedisClient)));
            }
            if (_connections[index] is { IsBroken: false } current)
            {
                return Task.FromResult(current);
            }
            if (_connecting[index] is { IsCompleted: false } inFlight)
            {
                live = AnyLive();
                return live is null ? inFlight : Task.FromResult(live);
            }
            if (_failures > 0)
            {
                // While the node is failing, at most one connect at a time probes it, and none before the backoff ends.
                foreach (var attempt in _connecting)
                {
                    if (attempt is { IsCompleted: false })
                    {
                        return attempt;
                    }
                }
                var wait = _retryAt - Environment.TickCount64;
                if (wait > 0)
                {
                    live = AnyLive();
                    return live is not null ? Task.FromResult(live) : Task.FromException<RedisConnection>(new RedisConnectionException(
                        $"Redis at {Name} is unavailable ({_lastError}); next connect attempt in {wait} ms"));
                }
            }
            started = new TaskCompletionSource<RedisConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
            _connecting[index] = started.Task;
            live = AnyLive();
        }
        _ = Task.Run(() => CompleteConnectAsync(index, started));
        // Callers that can use another live connection do not wait for the replacement.
        return live is null ? started.Task : Task.FromResult(live);
    }

    private async Task CompleteConnectAsync(int index, TaskCompletionSource<RedisConnection> started)
    {
        try
        {
            started.TrySetResult(await ConnectAsync(index).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            started.TrySetException(ex);
        }
    }

    private RedisConnection? AnyLive()
    {
        foreach (var connection in _connections)
        {
            if (connection is { IsBroken: false })
            {
                return connection;
            }
        }
        return null;
    }

    private async Task<RedisConnection> ConnectAsync(int index)
    {
        Interlocked.Increment(ref _connectAttempts);
        try
        {
            var endpoint = _endpoint;
            if (_passwordProvider is not null)
            {
                endpoint = endpoint with { Password = await _passwordProvider(_clientLifetime).ConfigureAwait(false) };
            }
            var connection = await RedisConnection.ConnectAsync(endpoint, _clientLifetime).ConfigureAwait(false);
            RedisConnection? old = null;
            var disposed = false;
            lock (_gate)
            {
                disposed = _disposed;
                if (!disposed)
                {
                    old = _connections[index];
                    Volatile.Write(ref _connections[index], connection);
                    _failures = 0;
                    Volatile.Write(ref _lastError, null);
                }
            }
            if (disposed)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw new ObjectDisposedException(nameof(RedisClient));
            }
            if (old is not null)
            {
                _ = old.DisposeAsync();
            }
            return connection;
        }
        catch (Exception ex) when (ex is not ObjectDisposedException && !_clientLifetime.IsCancellationRequested)
        {
            var error = ex switch
            {
                RedisConnectionException => ex.Message,
                RedisServerException server => $"Redis at {Name} refused the connection: {server.Message}",
                _ => $"Connecting to Redis at {Name} failed: {ex.GetType().Name}",
            };
            lock (_gate)
            {
                _failures++;
                _retryAt = Environment.TickCount64 + (long)BackoffDelay(_failures).TotalMilliseconds;
            }
            Volatile.Write(ref _lastError, error);
            throw ex as RedisConnectionException ?? new RedisConnectionException(error, ex);
        }
    }

    /// <summary>Exponential from the minimum, capped at the maximum, with up to 25% taken off at random so clients spread out.</summary>
    private TimeSpan BackoffDelay(int failures)
    {
        var min = _options.ReconnectMinDelay.TotalMilliseconds;
        var max = Math.Max(min, _options.ReconnectMaxDelay.TotalMilliseconds);
        var delay = Math.Min(max, min * Math.Pow(2, Math.Min(failures - 1, 30)));
        return TimeSpan.FromMilliseconds(delay * (1 - 0.25 * Random.Shared.NextDouble()));
    }

    public async ValueTask DisposeAsync()
    {
        // No lock here: disposal must finish even if a connect attempt is stuck. A connect that completes afterwards
        // sees the flag under the lock and closes its connection itself.
        Volatile.Write(ref _disposed, true);
        var connections = new RedisConnection?[_connections.Length];
        for (var i = 0; i < connections.Length; i++)
        {
            connections[i] = Volatile.Read(ref _connections[i]);
        }
        foreach (var connection in connections)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
