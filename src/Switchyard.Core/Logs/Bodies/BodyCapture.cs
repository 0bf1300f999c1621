namespace Switchyard.Core.Logs.Bodies;

/// <summary>
/// Keeps the first <see cref="Limit"/> bytes of a response body as it is relayed and counts the rest, so the log record
/// can hold the answer (or a stream to reassemble) without holding an unbounded body in memory.
/// </summary>
/// <remarks>Written by one reader at a time (the relay), read after the request completed.</remarks>
public sealed class BodyCapture(int limit)
{
    private byte[] _buffer = [];
    private int _length;

    public int Limit { get; } = Math.Max(0, limit);

    /// <summary>Every byte relayed, kept or not.</summary>
    public long TotalBytes { get; private set; }

    public bool Truncated => TotalBytes > _length;

    public ReadOnlyMemory<byte> Bytes => _buffer.AsMemory(0, _length);

    public void Append(ReadOnlySpan<byte> chunk)
    {
        TotalBytes += chunk.Length;
        var take = Math.Min(chunk.Length, Limit - _length);
        if (take <= 0)
        {
            return;
        }
        if (_length + take > _buffer.Length)
        {
            // Grow geometrically from the first chunk's size, never past the limit.
            var size = Math.Min(Limit, Math.Max(Math.Max(_buffer.Length * 2, 4096), _length + take));
            Array.Resize(ref _buffer, size);
        }
        chunk[..take].CopyTo(_buffer.AsSpan(_length));
        _length += take;
    }
}
