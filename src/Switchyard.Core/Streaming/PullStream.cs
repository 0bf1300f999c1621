namespace Switchyard.Core.Streaming;

/// <summary>A read-only, forward-only stream whose subclasses produce bytes in <see cref="Stream.ReadAsync(Memory{byte}, CancellationToken)"/>.</summary>
internal abstract class PullStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default);

    /// <summary>Size of the buffer a rewriting stream rents for one upstream read.</summary>
    protected const int InputSize = 16 * 1024;

    /// <summary>
    /// Reads what <paramref name="source"/> has into a buffer rented only once data is there, and hands it to
    /// <paramref name="consume"/> (with 0 at the end). A zero-byte read waits for data without a buffer (HttpClient's
    /// response streams support it), so an open but quiet stream holds no input buffer: thousands of slow streams
    /// would otherwise pin 16 KB each.
    /// </summary>
    protected static async ValueTask<int> ReadPooledAsync<TState>(Stream source, TState state, Action<TState, ReadOnlySpan<byte>> consume, CancellationToken ct)
    {
        _ = await source.ReadAsync(Memory<byte>.Empty, ct).ConfigureAwait(false);
        var input = System.Buffers.ArrayPool<byte>.Shared.Rent(InputSize);
        try
        {
            var n = await source.ReadAsync(input, ct).ConfigureAwait(false);
            consume(state, input.AsSpan(0, n));
            return n;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(input);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
