using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Redis;

/// <summary>Settings for one connection to a Redis-protocol server.</summary>
internal sealed record RedisEndpoint(string Host, int Port)
{
    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>Per-command timeout, and the connect timeout unless <see cref="ConnectTimeout"/> is set.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan? ConnectTimeout { get; init; }

    public bool Tls { get; init; }

    /// <summary>Name sent as SNI and checked against the certificate; the host when null.</summary>
    public string? TlsServerName { get; init; }

    /// <summary>CA certificates trusted in addition to the system roots.</summary>
    public X509Certificate2Collection? TlsCaCertificates { get; init; }

    public int Database { get; init; }

    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>Writes one command into a connection's output buffer.</summary>
internal delegate void CommandEncoder<TState>(IBufferWriter<byte> output, TState state);

/// <summary>
/// One pipelined connection: commands are written in order as they come and replies are matched to them in
/// order by one reader loop, so many callers share the socket without waiting for each other's round trips.
/// Callers that arrive while a write is in flight are batched into the next write. A timeout or protocol error
/// breaks the connection (replies could no longer be matched); the pool replaces it.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private const int ShrinkAbove = 1024 * 1024;

    private readonly TcpClient _client;
    private readonly Stream _stream;
    private readonly RedisEndpoint _endpoint;
    private readonly long _timeoutMs;
    private readonly Lock _gate = new();
    private readonly ConcurrentQueue<PendingCommand> _pending = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Timer _timeoutCheck;
    private readonly Task _readLoop;
    private ArrayBufferWriter<byte> _output = new(4096);
    private ArrayBufferWriter<byte> _spare = new(4096);
    private bool _flushing;
    private Exception? _broken;

    private RedisConnection(TcpClient client, Stream stream, RedisEndpoint endpoint)
    {
        _client = client;
        _stream = stream;
        _endpoint = endpoint;
        _timeoutMs = Math.Max(1, (long)endpoint.Timeout.TotalMilliseconds);
        // One timer per connection looks at the oldest unanswered command, instead of a timer per command.
        var period = TimeSpan.FromMilliseconds(Math.Clamp(_timeoutMs / 4, 5, 250));
        _timeoutCheck = new Timer(static state => ((RedisConnection)state!).CheckTimeout(), this, period, period);
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>True once the connection has failed; every later command fails at once.</summary>
    public bool IsBroken => Volatile.Read(ref _broken) is not null;

    public RedisEndpoint Endpoint => _endpoint;

    /// <summary>Connects, negotiates TLS, authenticates and selects the database.</summary>
    /// <exception cref="RedisConnectionException">The server cannot be reached, the TLS handshake failed or it took too long.</exception>
    /// <exception cref="RedisServerException">The server refused AUTH or SELECT.</exception>
    public static async Task<RedisConnection> ConnectAsync(RedisEndpoint endpoint, CancellationToken ct = default)
    {
        var connectTimeout = endpoint.ConnectTimeout ?? endpoint.Timeout;
        var client = new TcpClient { NoDelay = true };
        Stream stream;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(connectTimeout);
            string? certificateProblem = null;
            try
            {
                await client.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token).ConfigureAwait(false);
                stream = client.GetStream();
                if (endpoint.Tls)
                {
                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    stream = ssl;
                    await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                    {
                        TargetHost = endpoint.TlsServerName ?? endpoint.Host,
                        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                        // Managed Redis (Memorystore, ElastiCache) sits in a private network without CRL/OCSP access.
                        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                        RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                            TlsTrust.Accept(certificate, chain, errors, endpoint.TlsCaCertificates, out certificateProblem),
                    }, timeout.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                client.Dispose();
                throw new RedisConnectionException($"Connecting to Redis at {endpoint} took longer than {connectTimeout.TotalMilliseconds:0} ms");
            }
            catch (SocketException ex)
            {
                client.Dispose();
                throw new RedisConnectionException($"Could not connect to Redis at {endpoint}: {ex.SocketErrorCode}", ex);
            }
            catch (AuthenticationException ex)
            {
                client.Dispose();
                throw new RedisConnectionException(
                    $"TLS handshake with Redis at {endpoint} failed: {certificateProblem ?? ex.Message}", ex);
            }
            catch (IOException ex)
            {
                client.Dispose();
                throw new RedisConnectionException($"Connecting to Redis at {endpoint} failed: {ex.Message}", ex);
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }
        var connection = new RedisConnection(client, stream, endpoint);
        try
        {
            if (endpoint.Password is { } password)
            {
                _ = endpoint.Username is { } user
                    ? await connection.ExecuteAsync(["AUTH", user, password], ct).ConfigureAwait(false)
                    : await connection.ExecuteAsync(["AUTH", password], ct).ConfigureAwait(false);
            }
            if (endpoint.Database != 0)
            {
                await connection.ExecuteAsync(["SELECT", endpoint.Database.ToString(System.Globalization.CultureInfo.InvariantCulture)], ct).ConfigureAwait(false);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return connection;
    }

    /// <summary>Sends one command; an error reply raises <see cref="RedisServerException"/>.</summary>
    public async Task<RespValue> ExecuteAsync(string[] command, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var reply = await Send(command, static (output, parts) => RespWriter.WriteCommand(output, parts)).WaitAsync(ct).ConfigureAwait(false);
        return reply.IsError ? throw new RedisServerException(reply.Text ?? "ERR") : reply;
    }

    /// <summary>
    /// Queues one command (preceded by ASKING when <paramref name="asking"/>) and returns its reply, error replies included.
    /// Encoding happens on the caller's thread; the first caller to find no write in flight writes for everyone queued.
    /// </summary>
    public Task<RespValue> Send<TState>(TState state, CommandEncoder<TState> encode, bool asking = false)
    {
        var command = new PendingCommand(Environment.TickCount64);
        bool flush;
        lock (_gate)
        {
            if (_broken is { } broken)
            {
                return Task.FromException<RespValue>(BrokenError(broken));
            }
            try
            {
                if (asking)
                {
                    // In the same write as the command, so no other caller's command can take the one-shot ASKING flag.
                    RespWriter.WriteCommand(_output, "ASKING");
                    _pending.Enqueue(new PendingCommand(command.StartedAt));
                }
                encode(_output, state);
            }
            catch (Exception ex)
            {
                // A half-written command would desynchronise every later reply.
                BreakLocked(ex);
                return Task.FromException<RespValue>(BrokenError(ex));
            }
            _pending.Enqueue(command);
            flush = !_flushing;
            _flushing = true;
        }
        if (flush)
        {
            _ = FlushAsync();
        }
        return command.Task;
    }

    private async Task FlushAsync()
    {
        try
        {
            while (true)
            {
                ArrayBufferWriter<byte> batch;
                lock (_gate)
                {
                    if (_output.WrittenCount == 0 || _broken is not null)
                    {
                        _flushing = false;
                        return;
                    }
                    batch = _output;
                    _output = _spare;
                    _spare = batch;
                }
                await _stream.WriteAsync(batch.WrittenMemory).ConfigureAwait(false);
                if (batch.Capacity > ShrinkAbove)
                {
                    // A large cached value should not pin a large buffer for the connection's lifetime.
                    lock (_gate)
                    {
                        _spare = new ArrayBufferWriter<byte>(4096);
                    }
                }
                else
                {
                    batch.ResetWrittenCount();
                }
            }
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                _flushing = false;
            }
            Break(ex);
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var start = 0;
        var end = 0;
        try
        {
            while (true)
            {
                if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    }
                    else
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        Buffer.BlockCopy(buffer, 0, larger, 0, end);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    end -= start;
                    start = 0;
                }
                var n = await _stream.ReadAsync(buffer.AsMemory(end), _closing.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException("Redis closed the connection");
                }
                end += n;
                var sequence = new ReadOnlySequence<byte>(buffer, start, end - start);
                var before = sequence.Length;
                while (RespReader.TryRead(ref sequence, out var value))
                {
                    if (value.Kind == RespKind.Push)
                    {
                        continue; // RESP3 out-of-band messages answer no command.
                    }
                    if (!_pending.TryDequeue(out var waiter))
                    {
                        throw new RespProtocolException("a reply arrived for no command");
                    }
                    waiter.TrySetResult(value);
                }
                start += (int)(before - sequence.Length);
                if (start == end)
                {
                    start = end = 0;
                }
            }
        }
        catch (Exception ex)
        {
            Break(ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void CheckTimeout()
    {
        if (_pending.TryPeek(out var oldest) && Environment.TickCount64 - oldest.StartedAt > _timeoutMs)
        {
            Break(new TimeoutException($"Redis at {_endpoint} did not answer within {_timeoutMs} ms"));
        }
    }

    private RedisConnectionException BrokenError(Exception reason) => reason switch
    {
        TimeoutException => new RedisConnectionException(reason.Message, reason),
        _ => new RedisConnectionException($"The connection to Redis at {_endpoint} broke: {reason.Message}", reason),
    };

    private void Break(Exception reason)
    {
        lock (_gate)
        {
            BreakLocked(reason);
        }
    }

    private void BreakLocked(Exception reason)
    {
        if (_broken is null)
        {
            // Under the gate, so no command is queued after the queue is drained below.
            Volatile.Write(ref _broken, reason);
            _closing.Cancel();
            _timeoutCheck.Dispose();
            _client.Dispose();
        }
        while (_pending.TryDequeue(out var waiter))
        {
            waiter.TrySetException(BrokenError(_broken));
        }
    }

    public async ValueTask DisposeAsync()
    {
        Break(new ObjectDisposedException(nameof(RedisConnection)));
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The loop ends with the socket; its reason is already recorded.
        }
        _stream.Dispose();
        _closing.Dispose();
    }

    /// <summary>A command waiting for its reply, stamped so the timeout check can see how long the oldest one has waited.</summary>
    private sealed class PendingCommand(long startedAt) : TaskCompletionSource<RespValue>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public long StartedAt { get; } = startedAt;
    }
}
