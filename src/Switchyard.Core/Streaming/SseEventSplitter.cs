using System.Buffers;

namespace Switchyard.Core.Streaming;

/// <summary>
/// The one place that finds where server-sent events end. An event ends at a blank line; lines end with LF, CRLF or
/// CR (the SSE specification allows all three, and providers use each). Events are handed out byte for byte, their
/// terminating blank line included, so a relay that re-emits them changes nothing.
/// </summary>
public sealed class SseEventSplitter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private int _start;

    /// <summary>Length of the first complete event in <paramref name="span"/>, its blank line included; -1 when none is complete yet.</summary>
    /// <remarks>A CR as the last byte may be the first half of a CRLF, so it does not end anything until more bytes (or the end) arrive.</remarks>
    public static int EventLength(ReadOnlySpan<byte> span)
    {
        var lineStart = 0;
        var i = 0;
        while (i < span.Length)
        {
            var rest = span[i..];
            var at = rest.IndexOfAny((byte)'\n', (byte)'\r');
            if (at < 0)
            {
                return -1;
            }
            i += at;
            int end;
            if (span[i] == (byte)'\r')
            {
                if (i + 1 >= span.Length)
                {
                    return -1;
                }
                end = span[i + 1] == (byte)'\n' ? i + 2 : i + 1;
            }
            else
            {
                end = i + 1;
            }
            if (i == lineStart)
            {
                return end; // an empty line: the event ends here
            }
            lineStart = end;
            i = end;
        }
        return -1;
    }

    /// <summary>Each line of one event (terminators removed), for field parsing.</summary>
    public static LineEnumerator Lines(ReadOnlySpan<byte> evt) => new(evt);

    /// <summary>Adds bytes as they arrive.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (_start > 0 && _start == _buffer.WrittenCount)
        {
            _buffer.ResetWrittenCount();
            _start = 0;
        }
        else if (_start > 4096)
        {
            var rest = _buffer.WrittenSpan[_start..].ToArray();
            _buffer.ResetWrittenCount();
            _buffer.Write(rest);
            _start = 0;
        }
        _buffer.Write(data);
    }

    /// <summary>The next complete event, valid until the next <see cref="Append"/>.</summary>
    public bool TryRead(out ReadOnlySpan<byte> evt)
    {
        var pending = _buffer.WrittenSpan[_start..];
        var length = EventLength(pending);
        if (length < 0)
        {
            evt = default;
            return false;
        }
        evt = pending[..length];
        _start += length;
        return true;
    }

    /// <summary>At the end of the stream: what is left (an unterminated last event), possibly empty.</summary>
    public ReadOnlySpan<byte> TakeRest()
    {
        var rest = _buffer.WrittenSpan[_start..];
        _start = _buffer.WrittenCount;
        return rest;
    }

    /// <summary>Bytes received but not yet handed out as an event.</summary>
    public int Pending => _buffer.WrittenCount - _start;

    /// <summary>Enumerates the lines of one event without allocating.</summary>
    public ref struct LineEnumerator(ReadOnlySpan<byte> evt)
    {
        private ReadOnlySpan<byte> _rest = evt;

        public ReadOnlySpan<byte> Current { get; private set; }

        public readonly LineEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_rest.IsEmpty)
            {
                return false;
            }
            var at = _rest.IndexOfAny((byte)'\n', (byte)'\r');
            if (at < 0)
            {
                Current = _rest;
                _rest = default;
                return true;
            }
            Current = _rest[..at];
            var skip = _rest[at] == (byte)'\r' && at + 1 < _rest.Length && _rest[at + 1] == (byte)'\n' ? 2 : 1;
            _rest = _rest[(at + skip)..];
            return true;
        }
    }
}
