using Switchyard.Core.Streaming;

namespace Switchyard.Core.Usage;

/// <summary>
/// Watches response bytes as they are relayed, keeping only what usage extraction needs: the whole body of a JSON
/// response (up to a cap), or, for an event stream, the first and the latest events that carry a usage object plus the
/// event still arriving. Nothing is held back from the client.
/// </summary>
/// <remarks>
/// An open stream costs only the event in progress (a few hundred bytes for a chat chunk), not a fixed window: a
/// gateway holding thousands of slow streams must not pay kilobytes for each of them.
/// </remarks>
public sealed class ResponseTap
{
    private const int JsonCap = 4 * 1024 * 1024;

    /// <summary>The longest event kept whole; a longer one is skipped (its usage, if any, is then estimated).</summary>
    private const int EventCap = 256 * 1024;

    private readonly bool _isEventStream;
    private byte[] _buffer;
    private int _length;
    private bool _overflow;

    // Event streams: the first and the latest events with a usage object, and the bytes of the event not yet complete.
    private byte[]? _firstUsage;
    private byte[]? _lastUsage;
    private bool _skipping;

    public ResponseTap(bool isEventStream, long? contentLength)
    {
        _isEventStream = isEventStream;
        _buffer = isEventStream ? [] : new byte[(int)Math.Clamp(contentLength ?? 4096, 256, JsonCap)];
    }

    public void Observe(ReadOnlySpan<byte> chunk)
    {
        if (_isEventStream)
        {
            ObserveEvents(chunk);
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

    private void ObserveEvents(ReadOnlySpan<byte> chunk)
    {
        if (_skipping)
        {
            // Inside an event too long to keep: drop bytes up to its end.
            var end = EndOfSkippedEvent(chunk);
            if (end < 0)
            {
                return;
            }
            _skipping = false;
            chunk = chunk[end..];
        }
        if (_length > 0)
        {
            // Complete the pending event with the new bytes, then look at what became whole.
            Append(chunk);
            var consumed = TakeEvents(_buffer.AsSpan(0, _length));
            if (consumed > 0)
            {
                _buffer.AsSpan(consumed, _length - consumed).CopyTo(_buffer);
                _length -= consumed;
            }
        }
        else
        {
            // The usual case: whole events straight from the chunk; only a trailing fragment is copied.
            var consumed = TakeEvents(chunk);
            Append(chunk[consumed..]);
        }
        if (_length > EventCap)
        {
            _length = 0;
            _skipping = true;
        }
    }

    /// <summary>Looks at each complete event at the start of <paramref name="span"/>; returns the bytes they span.</summary>
    private int TakeEvents(ReadOnlySpan<byte> span)
    {
        var consumed = 0;
        while (SseEventSplitter.EventLength(span[consumed..]) is > 0 and var length)
        {
            var evt = span.Slice(consumed, length);
            if (UsageReader.HasUsageObject(evt))
            {
                var copy = evt.ToArray();
                _firstUsage ??= copy;
                _lastUsage = copy;
            }
            consumed += length;
        }
        return consumed;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }
        if (_length + bytes.Length > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(Math.Max(256, _buffer.Length * 2), _length + bytes.Length));
        }
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>Where the skipped event ends in <paramref name="chunk"/> (after its blank line), or -1.</summary>
    private static int EndOfSkippedEvent(ReadOnlySpan<byte> chunk)
    {
        // A blank line is two line ends in a row: LF LF, CRLF CRLF, or CR CR.
        for (var i = chunk.IndexOfAny((byte)'\n', (byte)'\r'); i >= 0 && i < chunk.Length - 1;)
        {
            var next = chunk[i] == (byte)'\r' && chunk[i + 1] == (byte)'\n' ? i + 2 : i + 1;
            if (next < chunk.Length && (chunk[next] == (byte)'\n' || chunk[next] == (byte)'\r'))
            {
                return chunk[next] == (byte)'\r' && next + 1 < chunk.Length && chunk[next + 1] == (byte)'\n' ? next + 2 : next + 1;
            }
            var rest = chunk[next..].IndexOfAny((byte)'\n', (byte)'\r');
            i = rest < 0 ? -1 : next + rest;
        }
        return -1;
    }

    public (TokenUsage? Usage, string? Model) Read()
    {
        if (_isEventStream)
        {
            // The latest usage event, then whatever arrived after it without a closing blank line (a stream cut short).
            var tail = _lastUsage ?? [];
            if (_length > 0 && !_skipping)
            {
                tail = [.. tail, .. _buffer.AsSpan(0, _length)];
            }
            return UsageReader.FromEventStream(_firstUsage, tail);
        }
        if (_overflow)
        {
            return (null, null);
        }
        return UsageReader.FromJson(_buffer.AsSpan(0, _length));
    }
}
