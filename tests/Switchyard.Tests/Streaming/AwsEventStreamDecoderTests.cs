using System.Buffers.Binary;
using System.Text;
using Switchyard.Core.Streaming;
using Xunit;

namespace Switchyard.Tests.Streaming;

/// <summary>AWS event-stream framing: checksums, every header type, arbitrary chunking, and corruption refused.</summary>
public sealed class AwsEventStreamDecoderTests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("123456789", 0xCBF43926u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x414FA339u)]
    public void Crc32_matches_the_published_check_values(string text, uint expected) =>
        Assert.Equal(expected, Crc32.Compute(Encoding.ASCII.GetBytes(text)));

    /// <summary>Writes one frame the way AWS does (an independent encoder for the tests).</summary>
    private static byte[] Frame(IEnumerable<(string Name, byte Type, byte[] Value)> headers, byte[] payload)
    {
        var h = new MemoryStream();
        foreach (var (name, type, value) in headers)
        {
            var n = Encoding.UTF8.GetBytes(name);
            h.WriteByte((byte)n.Length);
            h.Write(n);
            h.WriteByte(type);
            h.Write(value);
        }
        var headerBytes = h.ToArray();
        var total = 12 + headerBytes.Length + payload.Length + 4;
        var frame = new byte[total];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)headerBytes.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), Crc32.Compute(frame.AsSpan(0, 8)));
        headerBytes.CopyTo(frame, 12);
        payload.CopyTo(frame, 12 + headerBytes.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(total - 4), Crc32.Compute(frame.AsSpan(0, total - 4)));
        return frame;
    }

    private static byte[] Str(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        var v = new byte[2 + bytes.Length];
        BinaryPrimitives.WriteUInt16BigEndian(v, (ushort)bytes.Length);
        bytes.CopyTo(v, 2);
        return v;
    }

    private static byte[] Event(string type, string json) => Frame(
        [(":event-type", 7, Str(type)), (":content-type", 7, Str("application/json")), (":message-type", 7, Str("event"))],
        Encoding.UTF8.GetBytes(json));

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(100_000)]
    public void Messages_split_anywhere_decode_the_same(int chunk)
    {
        var stream = Event("messageStart", "{\"role\":\"assistant\"}")
            .Concat(Event("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hé\"}}"))
            .Concat(Event("metadata", "{\"usage\":{\"inputTokens\":5,\"outputTokens\":2}}")).ToArray();
        var decoder = new AwsEventStreamDecoder();
        var messages = new List<AwsEventMessage>();
        for (var i = 0; i < stream.Length; i += chunk)
        {
            decoder.Append(stream.AsSpan(i, Math.Min(chunk, stream.Length - i)));
            while (decoder.TryReadMessage(out var m))
            {
                messages.Add(m);
            }
        }
        Assert.Equal(["messageStart", "contentBlockDelta", "metadata"], messages.Select(m => m.EventType));
        Assert.All(messages, m => Assert.Equal("event", m.MessageType));
        Assert.Equal("{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hé\"}}", Encoding.UTF8.GetString(messages[1].Payload.Span));
        Assert.Equal(0, decoder.Pending);
    }

    [Fact]
    public void Every_header_type_is_decoded()
    {
        var guid = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        var guidBytes = guid.ToByteArray(bigEndian: true);
        var int16 = new byte[2];
        BinaryPrimitives.WriteInt16BigEndian(int16, -2);
        var int32 = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(int32, 70000);
        var int64 = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(int64, 1L << 40);
        var time = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(time, 1_700_000_000_123);
        var bytes = new byte[] { 0, 3, 1, 2, 3 };
        var frame = Frame(
        [
            ("t", 0, []), ("f", 1, []), ("b", 2, [0xFF]), ("s", 3, int16), ("i", 4, int32), ("l", 5, int64),
            ("a", 6, bytes), ("str", 7, Str("hello")), ("ts", 8, time), ("id", 9, guidBytes),
            (":message-type", 7, Str("exception")), (":exception-type", 7, Str("throttlingException")),
        ], Encoding.UTF8.GetBytes("{\"message\":\"slow down\"}"));
        var decoder = new AwsEventStreamDecoder();
        decoder.Append(frame);
        Assert.True(decoder.TryReadMessage(out var m));
        Assert.Equal(true, m.Headers["t"]);
        Assert.Equal(false, m.Headers["f"]);
        Assert.Equal((sbyte)-1, m.Headers["b"]);
        Assert.Equal((short)-2, m.Headers["s"]);
        Assert.Equal(70000, m.Headers["i"]);
        Assert.Equal(1L << 40, m.Headers["l"]);
        Assert.Equal(new byte[] { 1, 2, 3 }, (byte[])m.Headers["a"]);
        Assert.Equal("hello", m.Headers["str"]);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), m.Headers["ts"]);
        Assert.Equal(guid, m.Headers["id"]);
        Assert.Equal("exception", m.MessageType);
        Assert.Equal("throttlingException", m.ExceptionType);
        Assert.False(decoder.TryReadMessage(out _));
    }

    [Fact]
    public void Partial_frames_wait_for_more_bytes()
    {
        var frame = Event("messageStop", "{\"stopReason\":\"end_turn\"}");
        var decoder = new AwsEventStreamDecoder();
        decoder.Append(frame.AsSpan(0, 11));
        Assert.False(decoder.TryReadMessage(out _));
        decoder.Append(frame.AsSpan(11, frame.Length - 12));
        Assert.False(decoder.TryReadMessage(out _));
        Assert.Equal(frame.Length - 1, decoder.Pending);
        decoder.Append(frame.AsSpan(frame.Length - 1));
        Assert.True(decoder.TryReadMessage(out var m));
        Assert.Equal("messageStop", m.EventType);
    }

    [Fact]
    public void Corruption_is_refused_not_guessed_at()
    {
        var good = Event("contentBlockDelta", "{\"delta\":{\"text\":\"x\"}}");

        var badPrelude = (byte[])good.Clone();
        badPrelude[9] ^= 0x01;
        Assert.Contains("prelude checksum", Decode(badPrelude).Message);

        var badPayload = (byte[])good.Clone();
        badPayload[^6] ^= 0x20;
        Assert.Contains("message checksum", Decode(badPayload).Message);

        var tooBig = Frame([], []);
        BinaryPrimitives.WriteUInt32BigEndian(tooBig, AwsEventStreamDecoder.MaxMessageLength + 1u);
        BinaryPrimitives.WriteUInt32BigEndian(tooBig.AsSpan(8), Crc32.Compute(tooBig.AsSpan(0, 8)));
        Assert.Contains("impossible lengths", Decode(tooBig).Message);

        var unknownType = Frame([("x", 42, [])], []);
        Assert.Contains("unknown type 42", Decode(unknownType).Message);
    }

    private static AwsEventStreamException Decode(byte[] bytes)
    {
        var decoder = new AwsEventStreamDecoder();
        decoder.Append(bytes);
        return Assert.Throws<AwsEventStreamException>(() => decoder.TryReadMessage(out _));
    }
}
