namespace Switchyard.Core.Usage;

/// <summary>
/// Watches response bytes as they are relayed, keeping only what usage extraction needs: the whole body of a JSON
/// response (up to a cap) or the last few kilobytes of an event stream. Nothing is held back from the client.
/// </summary>
public sealed class ResponseTap
{
    private const int JsonCap = 4 * 1024 * 1024;
    private const int TailSize = 8 * 1024;

    private const int HeadSize = 4 * 1024;

    private readonly bool _isEventStream;
    private readonly byte[]? _head;
    private int _headLength;
    private byte[] _buffer;
    private int _length;
    private bool _overflow;

    public ResponseTap(bool isEventStream, long? contentLength)
    {
        _isEventStream = isEventStream;
        _buffer = new byte[isEventStream ? TailSize * 2 : (int)Math.Clamp(contentLength ?? 4096, 256, JsonCap)];
        _head = isEventStream ? new byte[HeadSize] : null;
    }

    public void Observe(ReadOnlySpan<byte> chunk)
    {
        if (_isEventStream)
        {
            if (_headLength < HeadSize)
            {
                // The first events (Anthropic's message_start) carry the input token count.
                var n = Math.Min(HeadSize - _headLength, chunk.Length);
                chunk[..n].CopyTo(_head.AsSpan(_headLength));
                _headLength += n;
            }
            if (chunk.Length >= TailSize)
            {
                chunk[^TailSize..].CopyTo(_buffer);
                _length = TailSize;
                return;
            }
            if (_length + chunk.Length > _buffer.Length)
            {
                // Slide: keep the newest TailSize bytes.
                var keep = Math.Max(0, TailSize - chunk.Length);
                _buffer.AsSpan(_length - keep, keep).CopyTo(_buffer);
                _length = keep;
            }
            chunk.CopyTo(_buffer.AsSpan(_length));
            _length += chunk.Length;
            return;
        }
        if (_overflow)
        {
            return;
        }
        if (_length + chunk.Length > _buffer.Length)
        {
            if (_length + chunk.Length > JsonCap)
            {
                _overflow = true;
                return;
            }
            Array.Resize(ref _buffer, Math.Min(JsonCap, Math.Max(_buffer.Length * 2, _length + chunk.Length)));
        }
        chunk.CopyTo(_buffer.AsSpan(_length));
        _length += chunk.Length;
    }

    public (TokenUsage? Usage, string? Model) Read()
    {
        if (_overflow)
        {
            return (null, null);
        }
        var data = _buffer.AsSpan(0, _length);
        return _isEventStream ? UsageReader.FromEventStream(_head.AsSpan(0, _headLength), data) : UsageReader.FromJson(data);
    }
}
