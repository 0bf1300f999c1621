using System.Buffers.Binary;
using System.Text;

namespace Switchyard.Core.Caching.Semantic;

/// <summary>One cached prompt in the semantic index: its vector, its text (for the guard), the exact cache key it answers with, and its expiry.</summary>
public sealed class VectorEntry
{
    private const byte FormatVersion = 1;
    private const int HeaderSize = 1 + 8 + 4; // version, expiry (Unix ms), dimension count

    /// <summary>An entry; <paramref name="vector"/> is kept, not copied, and must not change afterwards.</summary>
    public VectorEntry(float[] vector, string text, string entryKey, DateTimeOffset expiresAt)
    {
        ArgumentNullException.ThrowIfNull(vector);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentException.ThrowIfNullOrEmpty(entryKey);
        Vector = vector;
        Text = text;
        EntryKey = entryKey;
        ExpiresAt = expiresAt;
    }

    /// <summary>The L2-normalised embedding of <see cref="Text"/>.</summary>
    public float[] Vector { get; }

    /// <summary>The last user message this entry was stored for.</summary>
    public string Text { get; }

    /// <summary>The exact-match cache key whose stored response a semantic hit returns.</summary>
    public string EntryKey { get; }

    /// <summary>When the entry stops matching (millisecond precision once serialised).</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>Compact little-endian binary: version byte, expiry (Unix ms, int64), dimensions (int32), the floats,
    /// then text and key as int32 byte length plus UTF-8.</summary>
    public byte[] ToBytes()
    {
        var textBytes = Encoding.UTF8.GetByteCount(Text);
        var keyBytes = Encoding.UTF8.GetByteCount(EntryKey);
        var bytes = new byte[HeaderSize + (Vector.Length * sizeof(float)) + 4 + textBytes + 4 + keyBytes];
        var span = bytes.AsSpan();
        span[0] = FormatVersion;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], ExpiresAt.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt32LittleEndian(span[9..], Vector.Length);
        var offset = HeaderSize;
        foreach (var value in Vector)
        {
            BinaryPrimitives.WriteSingleLittleEndian(span[offset..], value);
            offset += sizeof(float);
        }

        offset = WriteString(span, offset, Text, textBytes);
        WriteString(span, offset, EntryKey, keyBytes);
        return bytes;
    }

    /// <summary>Reads what <see cref="ToBytes"/> wrote; throws <see cref="FormatException"/> on anything else.</summary>
    public static VectorEntry FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderSize || bytes[0] != FormatVersion)
        {
            throw new FormatException("not a semantic cache entry (unknown version or too short)");
        }

        var expiresAt = BinaryPrimitives.ReadInt64LittleEndian(bytes[1..]);
        var dimensions = BinaryPrimitives.ReadInt32LittleEndian(bytes[9..]);
        if (dimensions < 0 || dimensions > (bytes.Length - HeaderSize) / sizeof(float))
        {
            throw new FormatException("semantic cache entry: vector length exceeds the data");
        }

        var vector = new float[dimensions];
        var offset = HeaderSize;
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[offset..]);
            offset += sizeof(float);
        }

        var text = ReadString(bytes, ref offset);
        var key = ReadString(bytes, ref offset);
        if (offset != bytes.Length || key.Length == 0)
        {
            throw new FormatException("semantic cache entry: trailing bytes or an empty key");
        }

        if (expiresAt < DateTimeOffset.MinValue.ToUnixTimeMilliseconds() || expiresAt > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new FormatException("semantic cache entry: expiry out of range");
        }

        return new VectorEntry(vector, text, key, DateTimeOffset.FromUnixTimeMilliseconds(expiresAt));
    }

    private static int WriteString(Span<byte> span, int offset, string value, int byteCount)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[offset..], byteCount);
        offset += 4;
        Encoding.UTF8.GetBytes(value, span[offset..]);
        return offset + byteCount;
    }

    private static string ReadString(ReadOnlySpan<byte> bytes, ref int offset)
    {
        if (bytes.Length - offset < 4)
        {
            throw new FormatException("semantic cache entry: truncated");
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes[offset..]);
        offset += 4;
        if (length < 0 || length > bytes.Length - offset)
        {
            throw new FormatException("semantic cache entry: string length exceeds the data");
        }

        var value = Encoding.UTF8.GetString(bytes.Slice(offset, length));
        offset += length;
        return value;
    }
}
