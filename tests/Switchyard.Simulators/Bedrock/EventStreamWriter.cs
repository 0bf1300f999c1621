using System.Buffers.Binary;
using System.Text;

namespace Switchyard.Simulators.Bedrock;

/// <summary>Encodes AWS event-stream messages (prelude, string headers, payload, two CRC32s), written here independently of the gateway's decoder.</summary>
public static class EventStreamWriter
{
    private static readonly uint[] Table = MakeTable();

    public static byte[] Encode(IReadOnlyList<(string Name, string Value)> headers, byte[] payload, bool corrupt = false)
    {
        var h = new MemoryStream();
        foreach (var (name, value) in headers)
        {
            var n = Encoding.UTF8.GetBytes(name);
            var v = Encoding.UTF8.GetBytes(value);
            h.WriteByte((byte)n.Length);
            h.Write(n);
            h.WriteByte(7); // string
            h.WriteByte((byte)(v.Length >> 8));
            h.WriteByte((byte)v.Length);
            h.Write(v);
        }
        var headerBytes = h.ToArray();
        var total = 12 + headerBytes.Length + payload.Length + 4;
        var frame = new byte[total];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)headerBytes.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), Crc(frame.AsSpan(0, 8)));
        headerBytes.CopyTo(frame, 12);
        payload.CopyTo(frame, 12 + headerBytes.Length);
        var crc = Crc(frame.AsSpan(0, total - 4));
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(total - 4), corrupt ? crc ^ 0xDEADBEEF : crc);
        return frame;
    }

    public static byte[] Event(string eventType, string json, bool corrupt = false) => Encode(
        [(":event-type", eventType), (":content-type", "application/json"), (":message-type", "event")], Encoding.UTF8.GetBytes(json), corrupt);

    public static byte[] Exception(string exceptionType, string message) => Encode(
        [(":exception-type", exceptionType), (":content-type", "application/json"), (":message-type", "exception")],
        Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["message"] = message })));

    private static uint Crc(ReadOnlySpan<byte> data)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        }
        return c ^ 0xFFFFFFFFu;
    }

    private static uint[] MakeTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) == 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            t[n] = c;
        }
        return t;
    }
}
