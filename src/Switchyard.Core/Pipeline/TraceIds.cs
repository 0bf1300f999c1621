using System.Buffers.Binary;

namespace Switchyard.Core.Pipeline;

/// <summary>
/// Trace ids for requests that bring none: UUID version 7 text (time-ordered, so log files sort by it), stamped from
/// the engine's clock. The random part comes from <see cref="Random.Shared"/>, not the OS: <see cref="Guid.CreateVersion7()"/>
/// reads 16 bytes from the kernel, one system call per request on the hot path. A trace id needs to be unique, not secret.
/// </summary>
public static class TraceIds
{
    public static string NewId(TimeProvider time)
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes[6..]);
        var ms = time.GetUtcNow().ToUnixTimeMilliseconds();
        BinaryPrimitives.WriteInt64BigEndian(bytes[..8], (ms << 16) | BinaryPrimitives.ReadUInt16BigEndian(bytes[6..8]));
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F)); // version 7
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F)); // RFC 9562 variant
        return new Guid(bytes, bigEndian: true).ToString();
    }
}
