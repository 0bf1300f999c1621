using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Switchyard.Core.Logs.Delivery;

/// <summary>
/// One spilled log object as a file: magic <c>SYSPILL1</c>, key length and UTF-8 key, content length and content (lengths
/// are 32-bit little-endian), then a SHA-256 of everything before it. The checksum and exact length let a reader tell a
/// whole file from a torn or damaged one without trusting the file system.
/// </summary>
internal static class SpillFileFormat
{
    private const int HashLength = 32;
    private const int MaxKeyBytes = 64 * 1024;

    private static ReadOnlySpan<byte> Magic => "SYSPILL1"u8;

    public static byte[] Encode(LogObject obj)
    {
        var keyLength = Encoding.UTF8.GetByteCount(obj.Key);
        if (keyLength is 0 or > MaxKeyBytes)
        {
            throw new ArgumentException($"A log object key must be 1 to {MaxKeyBytes} bytes long.", nameof(obj));
        }
        var bytes = new byte[Magic.Length + 4 + keyLength + 4 + obj.Content.Length + HashLength];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        var at = Magic.Length;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], keyLength);
        at += 4;
        at += Encoding.UTF8.GetBytes(obj.Key, span[at..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], obj.Content.Length);
        at += 4;
        obj.Content.CopyTo(span[at..]);
        at += obj.Content.Length;
        SHA256.HashData(span[..at], span[at..]);
        return bytes;
    }

    /// <summary>The object the bytes hold, or null (with the reason) when they are not one whole spill file.</summary>
    public static LogObject? TryDecode(ReadOnlySpan<byte> bytes, out string? problem)
    {
        problem = null;
        if (bytes.Length < Magic.Length + 8 + HashLength || !bytes.StartsWith(Magic))
        {
            problem = "not a spill file (too short or wrong magic)";
            return null;
        }
        var at = Magic.Length;
        var keyLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]);
        at += 4;
        if (keyLength is <= 0 or > MaxKeyBytes || (long)at + keyLength + 4 + HashLength > bytes.Length)
        {
            problem = "key length out of range";
            return null;
        }
        var keyBytes = bytes.Slice(at, keyLength);
        at += keyLength;
        var contentLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]);
        at += 4;
        if (contentLength < 0 || (long)at + contentLength + HashLength != bytes.Length)
        {
            problem = "length does not match (torn write?)";
            return null;
        }
        Span<byte> hash = stackalloc byte[HashLength];
        SHA256.HashData(bytes[..(at + contentLength)], hash);
        if (!hash.SequenceEqual(bytes[(at + contentLength)..]))
        {
            problem = "checksum mismatch";
            return null;
        }
        string key;
        try
        {
            key = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(keyBytes);
        }
        catch (DecoderFallbackException)
        {
            problem = "key is not UTF-8";
            return null;
        }
        return new LogObject(key, bytes.Slice(at, contentLength).ToArray());
    }
}
