using System.Buffers.Binary;
using System.Net.Http.Headers;
using System.Text;

namespace Switchyard.Core.Caching;

/// <summary>A stored response: the bytes the client received, with their content type and when they were stored.</summary>
public sealed record CachedResponse(string ContentType, DateTimeOffset StoredAt, ReadOnlyMemory<byte> Body)
{
    // "SYC" + format version: a store shared with other software or a later format never yields garbage.
    private static ReadOnlySpan<byte> Magic => "SYC\u0001"u8;

    public byte[] ToBytes()
    {
        var type = Encoding.UTF8.GetBytes(ContentType);
        var bytes = new byte[Magic.Length + 8 + 2 + type.Length + Body.Length];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteInt64LittleEndian(span[4..], StoredAt.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteUInt16LittleEndian(span[12..], (ushort)type.Length);
        type.CopyTo(span[14..]);
        Body.Span.CopyTo(span[(14 + type.Length)..]);
        return bytes;
    }

    /// <summary>Null for anything that is not an entry in this format.</summary>
    public static CachedResponse? FromBytes(byte[] bytes)
    {
        var span = bytes.AsSpan();
        if (span.Length < 14 || !span[..4].SequenceEqual(Magic))
        {
            return null;
        }
        var stored = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(span[4..]));
        int typeLength = BinaryPrimitives.ReadUInt16LittleEndian(span[12..]);
        if (span.Length < 14 + typeLength)
        {
            return null;
        }
        var type = Encoding.UTF8.GetString(span.Slice(14, typeLength));
        return new CachedResponse(type, stored, bytes.AsMemory(14 + typeLength));
    }

    /// <summary>The response a hit sends: status 200 and the stored bytes, byte for byte.</summary>
    public HttpResponseMessage ToResponse()
    {
        var content = new ReadOnlyMemoryContent(Body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(ContentType);
        content.Headers.ContentLength = Body.Length;
        return new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = content };
    }
}
