using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Switchyard.Redis;

/// <summary>Encodes commands as RESP arrays of bulk strings, the form every Redis-protocol server accepts.</summary>
public static class RespWriter
{
    public static void WriteCommand(IBufferWriter<byte> output, params ReadOnlySpan<string> parts)
    {
        WriteHeader(output, (byte)'*', parts.Length);
        foreach (var part in parts)
        {
            var length = Encoding.UTF8.GetByteCount(part);
            WriteHeader(output, (byte)'$', length);
            var span = output.GetSpan(length + 2);
            Encoding.UTF8.GetBytes(part, span);
            span[length] = (byte)'\r';
            span[length + 1] = (byte)'\n';
            output.Advance(length + 2);
        }
    }

    /// <summary>A command whose arguments are raw bytes (binary-safe values).</summary>
    public static void WriteCommand(IBufferWriter<byte> output, IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        WriteHeader(output, (byte)'*', parts.Count);
        foreach (var part in parts)
        {
            WriteHeader(output, (byte)'$', part.Length);
            var span = output.GetSpan(part.Length + 2);
            part.Span.CopyTo(span);
            span[part.Length] = (byte)'\r';
            span[part.Length + 1] = (byte)'\n';
            output.Advance(part.Length + 2);
        }
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
