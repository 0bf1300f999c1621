using System.Buffers.Binary;
using System.Text;

namespace Switchyard.Core.Streaming;

/// <summary>
/// Decodes the binary <c>application/vnd.amazon.eventstream</c> framing (Bedrock ConverseStream) from bytes that arrive
/// in arbitrary pieces: 4-byte total length, 4-byte headers length, prelude CRC, headers, payload, message CRC.
/// Both checksums are verified; a corrupt frame raises <see cref="AwsEventStreamException"/> rather than being guessed at.
/// </summary>
public sealed class AwsEventStreamDecoder
{
    /// <summary>AWS caps event-stream messages at 16 MiB; anything larger is corruption, not data.</summary>
    public const int MaxMessageLength = 16 * 1024 * 1024;

    private const int PreludeLength = 12;
    private const int MinimumMessageLength = 16;

    private byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;

    /// <summary>Bytes received but not yet part of a complete message.</summary>
    public int Pending => _end - _start;

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_end + data.Length > _buffer.Length)
        {
            var pending = _end - _start;
            if (pending + data.Length > _buffer.Length)
            {
                var grown = new byte[Math.Max(_buffer.Length * 2, pending + data.Length)];
                _buffer.AsSpan(_start, pending).CopyTo(grown);
                _buffer = grown;
            }
            else
            {
                _buffer.AsSpan(_start, pending).CopyTo(_buffer);
            }
            _start = 0;
            _end = pending;
        }
        data.CopyTo(_buffer.AsSpan(_end));
        _end += data.Length;
    }

    /// <summary>Takes the next complete message, if one has fully arrived.</summary>
    public bool TryReadMessage(out AwsEventMessage message)
    {
        message = null!;
        var available = _buffer.AsSpan(_start, _end - _start);
        if (available.Length < PreludeLength)
        {
            return false;
        }
        var totalLength = BinaryPrimitives.ReadUInt32BigEndian(available);
        var headersLength = BinaryPrimitives.ReadUInt32BigEndian(available[4..]);
        var preludeCrc = BinaryPrimitives.ReadUInt32BigEndian(available[8..]);
        if (Crc32.Compute(available[..8]) != preludeCrc)
        {
            throw new AwsEventStreamException("event-stream prelude checksum mismatch");
        }
        if (totalLength < MinimumMessageLength || totalLength > MaxMessageLength || headersLength > totalLength - MinimumMessageLength)
        {
            throw new AwsEventStreamException($"event-stream frame has impossible lengths (total {totalLength}, headers {headersLength})");
        }
        if (available.Length < totalLength)
        {
            return false;
        }
        var frame = available[..(int)totalLength];
        var messageCrc = BinaryPrimitives.ReadUInt32BigEndian(frame[^4..]);
        if (Crc32.Compute(frame[..^4]) != messageCrc)
        {
            throw new AwsEventStreamException("event-stream message checksum mismatch");
        }
        var headers = ReadHeaders(frame.Slice(PreludeLength, (int)headersLength));
        var payload = frame[(PreludeLength + (int)headersLength)..^4].ToArray();
        _start += (int)totalLength;
        if (_start == _end)
        {
            _start = _end = 0;
        }
        message = new AwsEventMessage(headers, payload);
        return true;
    }

    private static Dictionary<string, object> ReadHeaders(ReadOnlySpan<byte> span)
    {
        var headers = new Dictionary<string, object>(StringComparer.Ordinal);
        var pos = 0;
        while (pos < span.Length)
        {
            int nameLength = span[pos++];
            var name = Encoding.UTF8.GetString(Take(span, ref pos, nameLength));
            var type = Take(span, ref pos, 1)[0];
            object value = type switch
            {
                0 => true,
                1 => false,
                2 => (sbyte)Take(span, ref pos, 1)[0],
                3 => BinaryPrimitives.ReadInt16BigEndian(Take(span, ref pos, 2)),
                4 => BinaryPrimitives.ReadInt32BigEndian(Take(span, ref pos, 4)),
                5 => BinaryPrimitives.ReadInt64BigEndian(Take(span, ref pos, 8)),
                6 => Take(span, ref pos, BinaryPrimitives.ReadUInt16BigEndian(Take(span, ref pos, 2))).ToArray(),
                7 => Encoding.UTF8.GetString(Take(span, ref pos, BinaryPrimitives.ReadUInt16BigEndian(Take(span, ref pos, 2)))),
                8 => DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(Take(span, ref pos, 8))),
                9 => new Guid(Take(span, ref pos, 16), bigEndian: true),
                _ => throw new AwsEventStreamException($"event-stream header '{name}' has unknown type {type}"),
            };
            headers[name] = value;
        }
        return headers;
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> span, ref int pos, int length)
    {
        if (pos + length > span.Length)
        {
            throw new AwsEventStreamException("event-stream header runs past its frame");
        }
        var slice = span.Slice(pos, length);
        pos += length;
        return slice;
    }
}
