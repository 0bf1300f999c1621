using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using StackExchange.Redis.Configuration;

namespace Switchyard.Core.Redis;

/// <summary>
/// The engine's one connection to Redis (standalone or cluster, on StackExchange.Redis), shared by every capability
/// that keeps state there: the response cache, rate limits, budgets.
/// </summary>
/// <remarks>
/// It connects in the background and keeps reconnecting with backoff; an unreachable server never makes the
/// constructor throw. While there is no connection, <see cref="DatabaseAsync"/> fails at once with a
/// <see cref="RedisUnavailableException"/> that says why, so a caller on the request path degrades instead of waiting.
/// Lua scripts run through <see cref="EvaluateAsync"/> or <see cref="IDatabase.ScriptEvaluateAsync(string, RedisKey[], RedisValue[], CommandFlags)"/>;
/// in cluster mode every key of one script must hash to the same slot, so give them a shared hash tag
/// (<c>{limit:team-a}:minute</c>, <c>{limit:team-a}:day</c>).
/// </remarks>
public sealed class RedisConnection : IAsyncDisposable
{
    private readonly ConfigurationOptions _config;
    private readonly X509Certificate2Collection? _extraRoots;
    private readonly ILogger? _logger;
    private readonly Task<ConnectionMultiplexer> _connecting;
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile string? _reason;
    private volatile string? _tlsReason;
    private int _up;
    private int _diagnosing;
    private int _disposed;

    /// <exception cref="ArgumentException">The options are inconsistent or the CA file cannot be read.</exception>
    public RedisConnection(RedisOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Endpoints is not { Count: > 0 })
        {
            throw new ArgumentException("At least one Redis endpoint is required", nameof(options));
        }
        if (options.Cluster && options.Database != 0)
        {
            throw new ArgumentException("Redis Cluster has only database 0; remove the database number", nameof(options));
        }
        if (options.Database < 0 || options.CommandTimeout <= TimeSpan.Zero || options.ConnectTimeout <= TimeSpan.Zero
            || options.ReconnectMinDelay < TimeSpan.Zero || options.ReconnectMaxDelay < options.ReconnectMinDelay)
        {
            throw new ArgumentException("Database must be >= 0, the timeouts positive and the reconnect delays ordered", nameof(options));
        }
        Options = options;
        _logger = logger;
        _config = new ConfigurationOptions
        {
            // Start-up must not depend on Redis: the multiplexer is returned unconnected and keeps trying.
            AbortOnConnectFail = false,
            ConnectTimeout = Milliseconds(options.ConnectTimeout),
            SyncTimeout = Milliseconds(options.CommandTimeout),
            AsyncTimeout = Milliseconds(options.CommandTimeout),
            User = options.Username,
            Password = options.Password,
            Ssl = options.Tls,
            SslHost = options.TlsServerName,
            DefaultDatabase = options.Cluster ? null : options.Database,
            ReconnectRetryPolicy = new ExponentialRetry(Milliseconds(options.ReconnectMinDelay), Milliseconds(options.ReconnectMaxDelay)),
            ClientName = "switchyard",
            // The channel only serves the client's own primary-switch broadcasts, which the gateway never sends; without
            // it an ACL user needs no channel permission.
            ConfigurationChannel = "",
        };
        foreach (var (host, port) in options.Endpoints)
        {
            _config.EndPoints.Add(IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port));
        }
        if (options.Tls)
        {
            _extraRoots = LoadCaFile(options.TlsCaFile);
            _config.CertificateValidation += Validate;
        }
        if (options.PasswordProvider is { } provider)
        {
            // Memorystore IAM: the token is fetched (cached, renewed before expiry) before each new connection authenticates.
            _config.Tunnel = new PasswordRefresh(_config, provider);
        }
        _connecting = Task.Run(ConnectAsync);
    }

    public RedisOptions Options { get; }

    /// <summary>True while at least one server is connected.</summary>
    public bool IsConnected =>
        Volatile.Read(ref _disposed) == 0 && _connecting.IsCompletedSuccessfully && _connecting.Result.IsConnected;

    /// <summary>Null while connected; else why not, without secrets (for <c>/v1/health</c> and readiness).</summary>
    public string? Problem
    {
        get
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return "the redis connection is closed";
            }
            if (IsConnected)
            {
                return null;
            }
            return _tlsReason ?? _reason ?? (_firstAttempt.Task.IsCompleted ? "redis is not connected" : "connecting to redis");
        }
    }

    /// <summary>
    /// The database to run commands on. Waits for the first connection attempt only; after that, while no server is
    /// connected, it throws <see cref="RedisUnavailableException"/> at once.
    /// </summary>
    public async Task<IDatabase> DatabaseAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (!_firstAttempt.Task.IsCompleted)
        {
            // Requests in the first moments after start-up wait for the connection instead of all missing the cache.
            await _firstAttempt.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        if (!_connecting.IsCompletedSuccessfully || !_connecting.Result.IsConnected)
        {
            throw new RedisUnavailableException(Problem ?? "redis is not connected");
        }
        return _connecting.Result.GetDatabase();
    }

    /// <summary>
    /// Awaits a command started on <see cref="DatabaseAsync"/>'s database, for at most the command timeout; a lost
    /// connection or the timeout becomes a <see cref="RedisUnavailableException"/> saying why. Server errors (NOPERM,
    /// a failing script) pass through as StackExchange.Redis reports them.
    /// </summary>
    public async Task<T> RunAsync<T>(Task<T> command, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(command);
        try
        {
            // The client checks its own timeout only once per heartbeat (a second), so the bound is kept here.
            return await command.WaitAsync(Options.CommandTimeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            Abandon(command);
            throw new RedisUnavailableException($"redis did not answer within {Milliseconds(Options.CommandTimeout)} ms", ex);
        }
        catch (OperationCanceledException)
        {
            Abandon(command);
            throw;
        }
        catch (RedisConnectionException ex)
        {
            throw new RedisUnavailableException(_tlsReason ?? _reason ?? Describe(ex.FailureType, null, ex), ex);
        }
    }

    /// <summary><see cref="DatabaseAsync"/> and <see cref="RunAsync{T}(Task{T}, CancellationToken)"/> in one call: <c>await redis.RunAsync(db => db.StringGetAsync(key), ct)</c>.</summary>
    public async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> command, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(command);
        var db = await DatabaseAsync(ct).ConfigureAwait(false);
        return await RunAsync(command(db), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a Lua script atomically (by its SHA-1 once the server has it; loaded again after a NOSCRIPT). In cluster
    /// mode all <paramref name="keys"/> must share a hash tag, or the call fails before reaching a server.
    /// </summary>
    public Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] values, CancellationToken ct) =>
        RunAsync(db => db.ScriptEvaluateAsync(script, keys, values), ct);

    /// <summary>One round trip to a server; throws <see cref="RedisUnavailableException"/> when there is none.</summary>
    public Task PingAsync(CancellationToken ct = default) => RunAsync(db => db.PingAsync(), ct);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        if (_connecting.IsCompletedSuccessfully)
        {
            await _connecting.Result.DisposeAsync().ConfigureAwait(false);
            return;
        }
        // Shutdown does not wait out a connect attempt; the multiplexer is closed whenever the attempt ends.
        _ = _connecting.ContinueWith(static t =>
        {
            if (t.IsCompletedSuccessfully)
            {
                t.Result.Dispose();
            }
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        try
        {
            var mux = await ConnectionMultiplexer.ConnectAsync(_config).ConfigureAwait(false);
            mux.ConnectionFailed += (sender, e) => OnFailed(sender, e);
            mux.ConnectionRestored += (_, e) => OnRestored(mux, e);
            if (mux.IsConnected)
            {
                _reason = null;
                _tlsReason = null;
                Volatile.Write(ref _up, 1);
            }
            else
            {
                _reason ??= $"{Where(null)} is not reachable";
                Diagnose(mux);
            }
            return mux;
        }
        catch (Exception ex)
        {
            _reason ??= $"the redis connection could not be set up ({ex.GetType().Name})";
            throw;
        }
        finally
        {
            _firstAttempt.TrySetResult();
        }
    }

    private void OnFailed(object? sender, ConnectionFailedEventArgs e)
    {
        // Commands travel on interactive connections; a failing subscription connection does not stop them.
        if (e.ConnectionType != ConnectionType.Interactive || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }
        var why = _tlsReason ?? Describe(e.FailureType, e.EndPoint, e.Exception);
        _reason = why;
        if (Interlocked.Exchange(ref _up, 0) == 1)
        {
            _logger?.LogWarning("Lost the connection to Redis ({Reason}); reconnecting in the background", why);
        }
        if (sender is ConnectionMultiplexer mux)
        {
            Diagnose(mux);
        }
    }

    /// <summary>
    /// While no connection stands, finds out why with a background PING: the client raises no event for reconnect
    /// attempts that fail (a rejected password, say), it only names the last failure on a command that times out.
    /// </summary>
    private void Diagnose(ConnectionMultiplexer mux)
    {
        if (Interlocked.Exchange(ref _diagnosing, 1) == 1)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                while (Volatile.Read(ref _disposed) == 0 && !mux.IsConnected)
                {
                    try
                    {
                        // Waits in the client's backlog for at most the command timeout.
                        await mux.GetDatabase().PingAsync().ConfigureAwait(false);
                    }
                    catch (RedisConnectionException ex) when (!mux.IsConnected && _tlsReason is null)
                    {
                        _reason = Describe(Innermost(ex).FailureType, null, ex);
                    }
                    catch (Exception)
                    {
                        // A timeout or a closed client: the next round, if any, tells more.
                    }
                    await Task.Delay(Options.ReconnectMinDelay + TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
                }
            }
            finally
            {
                Volatile.Write(ref _diagnosing, 0);
            }
        });
    }

    private static RedisConnectionException Innermost(RedisConnectionException ex)
    {
        var innermost = ex;
        for (var e = ex.InnerException; e is not null; e = e.InnerException)
        {
            if (e is RedisConnectionException inner)
            {
                innermost = inner;
            }
        }
        return innermost;
    }

    private void OnRestored(ConnectionMultiplexer mux, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Interactive || !mux.IsConnected)
        {
            return;
        }
        _reason = null;
        _tlsReason = null;
        if (Interlocked.Exchange(ref _up, 1) == 0)
        {
            _logger?.LogInformation("Connected to Redis at {Endpoint}", Format(e.EndPoint));
        }
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (TlsTrust.Accept(certificate, chain, errors, _extraRoots, out var problem))
        {
            return true;
        }
        // The client reports a refused certificate as an authentication failure; this is the reason worth showing.
        _tlsReason = problem;
        _reason = problem;
        _firstAttempt.TrySetResult();
        return false;
    }

    private string Describe(ConnectionFailureType type, EndPoint? endpoint, Exception? ex)
    {
        var where = Where(endpoint);
        return type switch
        {
            ConnectionFailureType.AuthenticationFailure => $"{where} refused the credentials or the TLS handshake failed",
            ConnectionFailureType.UnableToConnect or ConnectionFailureType.UnableToResolvePhysicalConnection or ConnectionFailureType.SocketFailure
                or ConnectionFailureType.SocketClosed => SocketError(ex) is { } error
                ? $"{where} is not reachable ({error})"
                : $"{where} is not reachable",
            _ => $"{where}: connection {type}",
        };
    }

    private string Where(EndPoint? endpoint) =>
        "redis at " + (endpoint is not null ? Format(endpoint) : string.Join(",", Options.Endpoints.Select(e => e.Host + ":" + e.Port.ToString(CultureInfo.InvariantCulture))));

    private static string Format(EndPoint? endpoint) => endpoint switch
    {
        DnsEndPoint dns => dns.Host + ":" + dns.Port.ToString(CultureInfo.InvariantCulture),
        null => "?",
        _ => endpoint.ToString() ?? "?",
    };

    private static SocketError? SocketError(Exception? ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket.SocketErrorCode;
            }
        }
        return null;
    }

    private static void Abandon(Task command) =>
        // Still pending in the client's queue; its eventual failure is nobody's to handle.
        command.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    private static int Milliseconds(TimeSpan value) => (int)Math.Min(int.MaxValue, value.TotalMilliseconds);

    private static X509Certificate2Collection? LoadCaFile(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"The Redis TLS CA file '{path}' could not be read: {ex.Message}", ex);
        }
        if (certificates.Count == 0)
        {
            throw new ArgumentException($"The Redis TLS CA file '{path}' holds no PEM certificate");
        }
        return certificates;
    }

    /// <summary>Sets the password from the provider just before each connection authenticates (IAM tokens that rotate).</summary>
    /// <remarks>
    /// StackExchange.Redis 3.4.35 has no credentials callback. It reads the password from this same options instance at
    /// each handshake, which is what makes this work; the Memorystore IAM test guards it on every package update.
    /// </remarks>
    private sealed class PasswordRefresh(ConfigurationOptions config, Func<CancellationToken, ValueTask<string>> provider) : Tunnel
    {
        public override async ValueTask<Stream?> BeforeAuthenticateAsync(EndPoint endpoint, ConnectionType connectionType, Socket? socket, CancellationToken cancellationToken)
        {
            config.Password = await provider(cancellationToken).ConfigureAwait(false);
            return null;
        }
    }
}
