using System.Buffers;
using System.Buffers.Text;

namespace Switchyard.Redis;

/// <summary>
/// Decodes RESP2 and RESP3 replies from bytes as they arrive. <see cref="TryRead"/> consumes one whole reply or
/// nothing, so a reply split across socket reads is simply retried when more bytes are there.
/// </summary>
internal static class RespReader
{
    /// <summary>Deepest nesting accepted; deeper input is treated as a protocol error rather than recursed into.</summary>
    public const int MaxDepth = 32;

    /// <summary>Largest bulk string or aggregate accepted (Redis's own proto-max-bulk-len default is 512 MB).</summary>
    public const long MaxLength = 512L * 1024 * 1024;

    /// <summary>Reads one reply from the start of <paramref name="buffer"/>; false (and nothing consumed) when it is incomplete.</summary>
    /// <exception cref="RespProtocolException">The bytes are not RESP.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out RespValue value)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!TryReadValue(ref reader, 0, out value))
        {
            return false;
        }
        buffer = buffer.Slice(reader.Position);
        return true;
    }

    private static bool TryReadValue(ref SequenceReader<byte> reader, int depth, out RespValue value)
    {
        value = RespValue.NullValue;
        if (depth > MaxDepth)
        {
            throw new RespProtocolException("reply nested deeper than " + MaxDepth);
        }
        if (!reader.TryRead(out var type) || !reader.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8))
        {
            return false;
        }
        var header = line.IsSingleSegment ? line.FirstSpan : line.ToArray();
        switch ((char)type)
        {
            case '+':
                value = RespValue.Simple(RespKind.SimpleString, header.ToArray());
                return true;
            case '-':
                value = RespValue.Simple(RespKind.Error, header.ToArray());
                return true;
            case ',':
                value = RespValue.Simple(RespKind.Double, header.ToArray());
                return true;
            case '(':
                value = RespValue.Simple(RespKind.BigNumber, header.ToArray());
                return true;
            case ':':
                value = RespValue.Number(ParseLong(header));
                return true;
            case '_':
                value = RespValue.NullValue;
                return true;
            case '#':
                value = header.SequenceEqual("t"u8) ? RespValue.Bool(true)
                    : header.SequenceEqual("f"u8) ? RespValue.Bool(false)
                    : throw new RespProtocolException("boolean must be t or f");
                return true;
            case '$' or '=' or '!':
                return TryReadBulk(ref reader, type, ParseLong(header), out value);
            case '*' or '~' or '>' or '%':
                return TryReadAggregate(ref reader, type, ParseLong(header), depth, out value);
            default:
                throw new RespProtocolException($"unknown reply type byte 0x{type:x2}");
        }
    }

    private static bool TryReadBulk(ref SequenceReader<byte> reader, byte type, long length, out RespValue value)
    {
        value = RespValue.NullValue;
        if (length == -1)
        {
            return true; // RESP2 null bulk string
        }
        if (length < 0 || length > MaxLength)
        {
            throw new RespProtocolException($"bulk length {length} is out of range");
        }
        if (reader.Remaining < length + 2)
        {
            return false;
        }
        var bytes = new byte[length];
        reader.TryCopyTo(bytes);
        reader.Advance(length);
        if (!reader.IsNext("\r\n"u8, advancePast: true))
        {
            throw new RespProtocolException("bulk string not terminated by CRLF");
        }
        value = RespValue.Simple(type == '-' || type == '!' ? RespKind.Error : RespKind.BulkString, bytes);
        return true;
    }

    private static bool TryReadAggregate(ref SequenceReader<byte> reader, byte type, long count, int depth, out RespValue value)
    {
        value = RespValue.NullValue;
        if (count == -1)
        {
            return true; // RESP2 null array
        }
        var elements = type == '%' ? count * 2 : count;
        if (count < 0 || elements > MaxLength)
        {
            throw new RespProtocolException($"aggregate length {count} is out of range");
        }
        var items = new RespValue[elements];
        for (var i = 0; i < elements; i++)
        {
            if (!TryReadValue(ref reader, depth + 1, out items[i]))
            {
                return false;
            }
        }
        var kind = type switch
        {
            (byte)'~' => RespKind.Set,
            (byte)'>' => RespKind.Push,
            (byte)'%' => RespKind.Map,
            _ => RespKind.Array,
        };
        value = RespValue.Aggregate(kind, items);
        return true;
    }

    private static long ParseLong(ReadOnlySpan<byte> text)
    {
        if (!Utf8Parser.TryParse(text, out long value, out var consumed) || consumed != text.Length)
        {
            throw new RespProtocolException($"'{System.Text.Encoding.ASCII.GetString(text)}' is not an integer");
        }
        return value;
    }
}

/// <summary>The server sent bytes that are not RESP; the connection cannot be trusted afterwards.</summary>
public sealed class RespProtocolException(string message) : Exception("RESP protocol error: " + message);
