using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;

namespace Switchyard.Redis;

/// <summary>Settings for one connection to a Redis-protocol server.</summary>
public sealed record RedisEndpoint(string Host, int Port)
{
    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>Connect and per-command timeout.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>A reply of type error from the server (e.g. <c>WRONGTYPE</c>, <c>NOAUTH</c>, <c>MOVED</c>).</summary>
public sealed class RedisServerException(string message) : Exception(message)
{
    /// <summary>The first word of the error, e.g. <c>MOVED</c>, <c>ASK</c>, <c>NOSCRIPT</c>.</summary>
    public string Code => Message.Split(' ', 2)[0];
}

/// <summary>
/// One pipelined connection: commands are written in order as they come and replies are matched to them in
/// order by one reader loop, so many callers share the socket without waiting for each other's round trips.
/// A timeout or protocol error breaks the connection (replies could no longer be matched); the pool replaces it.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly Stream _stream;
    private readonly RedisEndpoint _endpoint;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentQueue<TaskCompletionSource<RespValue>> _pending = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _readLoop;
    private Exception? _broken;

    private RedisConnection(TcpClient client, Stream stream, RedisEndpoint endpoint)
    {
        _client = client;
        _stream = stream;
        _endpoint = endpoint;
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>True once the connection has failed; every later command fails at once.</summary>
    public bool IsBroken => _broken is not null;

    public static async Task<RedisConnection> ConnectAsync(RedisEndpoint endpoint, CancellationToken ct = default)
    {
        var client = new TcpClient { NoDelay = true };
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(endpoint.Timeout);
            try
            {
                await client.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                client.Dispose();
                throw new TimeoutException($"Connecting to Redis at {endpoint.Host}:{endpoint.Port} took longer than {endpoint.Timeout.TotalMilliseconds:0} ms");
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }
        var connection = new RedisConnection(client, client.GetStream(), endpoint);
        try
        {
            if (endpoint.Password is { } password)
            {
                var reply = endpoint.Username is { } user
                    ? await connection.ExecuteAsync(["AUTH", user, password], ct).ConfigureAwait(false)
                    : await connection.ExecuteAsync(["AUTH", password], ct).ConfigureAwait(false);
                _ = reply;
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
        var reply = await SendAsync(command, ct).ConfigureAwait(false);
        return reply.IsError ? throw new RedisServerException(reply.Text ?? "ERR") : reply;
    }

    private async Task<RespValue> SendAsync(string[] command, CancellationToken ct)
    {
        if (_broken is { } broken)
        {
            throw new IOException("The Redis connection is broken: " + broken.Message, broken);
        }
        var output = new ArrayBufferWriter<byte>(64);
        RespWriter.WriteCommand(output, command);
        var reply = new TaskCompletionSource<RespValue>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Enqueue and write under one lock, so the queue order is the wire order.
            _pending.Enqueue(reply);
            await _stream.WriteAsync(output.WrittenMemory, ct).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Break(ex);
            throw;
        }
        finally
        {
            _writeLock.Release();
        }
        var finished = await Task.WhenAny(reply.Task, Task.Delay(_endpoint.Timeout, ct)).ConfigureAwait(false);
        if (finished != reply.Task)
        {
            ct.ThrowIfCancellationRequested();
            var timeout = new TimeoutException($"Redis did not answer {command[0]} within {_endpoint.Timeout.TotalMilliseconds:0} ms");
            Break(timeout);
            throw timeout;
        }
        return await reply.Task.ConfigureAwait(false);
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                var n = await _stream.ReadAsync(buffer.GetMemory(4096), _closing.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException("Redis closed the connection");
                }
                buffer.Advance(n);
                var sequence = new ReadOnlySequence<byte>(buffer.WrittenMemory);
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
                if (sequence.Length != before)
                {
                    var rest = sequence.ToArray();
                    buffer.ResetWrittenCount();
                    buffer.Write(rest);
                }
            }
        }
        catch (Exception ex)
        {
            Break(ex);
        }
    }

    private void Break(Exception reason)
    {
        if (Interlocked.CompareExchange(ref _broken, reason, null) is null)
        {
            _closing.Cancel();
            _client.Dispose();
        }
        while (_pending.TryDequeue(out var waiter))
        {
            waiter.TrySetException(new IOException("The Redis connection broke: " + reason.Message, reason));
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
        _closing.Dispose();
        _writeLock.Dispose();
    }
}
