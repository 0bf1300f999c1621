using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Switchyard.Redis;

/// <summary>Encodes commands as RESP arrays of bulk strings, the form every Redis-protocol server accepts.</summary>
internal static class RespWriter
{
    public static void WriteCommand(IBufferWriter<byte> output, params ReadOnlySpan<string> parts)
    {
        WriteArrayHeader(output, parts.Length);
        foreach (var part in parts)
        {
            WriteBulk(output, part);
        }
    }

    /// <summary>A command whose arguments are raw bytes (binary-safe values).</summary>
    public static void WriteCommand(IBufferWriter<byte> output, IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        WriteArrayHeader(output, parts.Count);
        for (var i = 0; i < parts.Count; i++)
        {
            WriteBulk(output, parts[i].Span);
        }
    }

    /// <summary>Starts a command of <paramref name="count"/> arguments; each must then be written with a WriteBulk overload.</summary>
    public static void WriteArrayHeader(IBufferWriter<byte> output, int count) => WriteHeader(output, (byte)'*', count);

    public static void WriteBulk(IBufferWriter<byte> output, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        WriteHeader(output, (byte)'$', length);
        var span = output.GetSpan(length + 2);
        Encoding.UTF8.GetBytes(text, span);
        span[length] = (byte)'\r';
        span[length + 1] = (byte)'\n';
        output.Advance(length + 2);
    }

    public static void WriteBulk(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        WriteHeader(output, (byte)'$', bytes.Length);
        var span = output.GetSpan(bytes.Length + 2);
        bytes.CopyTo(span);
        span[bytes.Length] = (byte)'\r';
        span[bytes.Length + 1] = (byte)'\n';
        output.Advance(bytes.Length + 2);
    }

    public static void WriteBulk(IBufferWriter<byte> output, long number)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(number, digits, out var written);
        WriteBulk(output, digits[..written]);
    }

    private static void WriteHeader(IBufferWriter<byte> output, byte type, long value)
    {
        var span = output.GetSpan(24);
        span[0] = type;
        Utf8Formatter.TryFormat(value, span[1..], out var written);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        output.Advance(written + 3);
    }
}
