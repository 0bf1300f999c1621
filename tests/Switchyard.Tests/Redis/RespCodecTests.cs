using System.Buffers;
using System.Text;
using Switchyard.Redis;
using Xunit;

namespace Switchyard.Tests.Redis;

/// <summary>The RESP codec of the gateway's own Redis client: every reply type, replies split anywhere, and malformed input.</summary>
public sealed class RespCodecTests
{
    private static RespValue ReadOne(string wire)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(wire));
        Assert.True(RespReader.TryRead(ref buffer, out var value));
        Assert.Equal(0, buffer.Length);
        return value;
    }

    [Fact]
    public void Commands_are_arrays_of_bulk_strings_with_byte_lengths()
    {
        var output = new ArrayBufferWriter<byte>();
        RespWriter.WriteCommand(output, "SET", "clé", "");
        Assert.Equal("*3\r\n$3\r\nSET\r\n$4\r\nclé\r\n$0\r\n\r\n", Encoding.UTF8.GetString(output.WrittenSpan));

        var binary = new ArrayBufferWriter<byte>();
        RespWriter.WriteCommand(binary, [Encoding.ASCII.GetBytes("GET"), new byte[] { 0, 13, 10, 255 }]);
        Assert.Equal(new byte[] { (byte)'*', (byte)'2', 13, 10, (byte)'$', (byte)'3', 13, 10, (byte)'G', (byte)'E', (byte)'T', 13, 10, (byte)'$', (byte)'4', 13, 10, 0, 13, 10, 255, 13, 10 }, binary.WrittenSpan.ToArray());
    }

    [Fact]
    public void Every_resp2_and_resp3_reply_type_decodes()
    {
        Assert.Equal("OK", ReadOne("+OK\r\n").Text);
        var error = ReadOne("-MOVED 3999 127.0.0.1:6381\r\n");
        Assert.True(error.IsError);
        Assert.Equal("MOVED 3999 127.0.0.1:6381", error.Text);
        Assert.Equal(-42, ReadOne(":-42\r\n").Integer);
        Assert.Equal("a\r\nb", ReadOne("$4\r\na\r\nb\r\n").Text);
        Assert.Equal("", ReadOne("$0\r\n\r\n").Text);
        Assert.True(ReadOne("$-1\r\n").IsNull);
        Assert.True(ReadOne("*-1\r\n").IsNull);
        Assert.True(ReadOne("_\r\n").IsNull);
        Assert.Equal(1, ReadOne("#t\r\n").Integer);
        Assert.Equal("3.14", ReadOne(",3.14\r\n").Text);
        Assert.Equal("12345678901234567890", ReadOne("(12345678901234567890\r\n").Text);
        Assert.Equal("txt:hi", ReadOne("=6\r\ntxt:hi\r\n").Text);
        Assert.True(ReadOne("!3\r\nbad\r\n").IsError);

        var array = ReadOne("*3\r\n:1\r\n$1\r\nx\r\n*1\r\n+nested\r\n");
        Assert.Equal(RespKind.Array, array.Kind);
        Assert.Equal(1, array.Items![0].Integer);
        Assert.Equal("x", array.Items[1].Text);
        Assert.Equal("nested", array.Items[2].Items![0].Text);

        var map = ReadOne("%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n");
        Assert.Equal(RespKind.Map, map.Kind);
        Assert.Equal(["a", "1", "b", "2"], map.Items!.Select(i => i.ToString()));
        Assert.Equal(RespKind.Set, ReadOne("~1\r\n+m\r\n").Kind);
        Assert.Equal(RespKind.Push, ReadOne(">2\r\n+message\r\n+x\r\n").Kind);
    }

    [Fact]
    public void A_reply_split_at_every_byte_is_read_only_when_complete_and_pipelined_replies_come_out_in_order()
    {
        var wire = Encoding.UTF8.GetBytes("*2\r\n$5\r\nhello\r\n:7\r\n+PONG\r\n$-1\r\n");
        for (var cut = 1; cut < wire.Length; cut++)
        {
            var partial = new ReadOnlySequence<byte>(wire.AsMemory(0, cut));
            var before = partial.Length;
            if (!RespReader.TryRead(ref partial, out _))
            {
                Assert.Equal(before, partial.Length); // nothing consumed from an incomplete reply
            }
        }
        // Three pipelined replies, delivered as a sequence of one-byte segments.
        var buffer = Segments(wire);
        var replies = new List<string>();
        while (RespReader.TryRead(ref buffer, out var value))
        {
            replies.Add(value.ToString());
        }
        Assert.Equal(["[hello, 7]", "PONG", "(nil)"], replies);
        Assert.Equal(0, buffer.Length);
    }

    [Theory]
    [InlineData("?what\r\n")]
    [InlineData(":12x\r\n")]
    [InlineData("$3\r\nabcd\r\n")]
    [InlineData("$-5\r\n")]
    [InlineData("#x\r\n")]
    public void Malformed_input_is_a_protocol_error_not_a_guess(string wire)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(wire));
        Assert.Throws<RespProtocolException>(() => RespReader.TryRead(ref buffer, out _));
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_refused()
    {
        var wire = string.Concat(Enumerable.Repeat("*1\r\n", RespReader.MaxDepth + 2)) + ":1\r\n";
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(wire));
        Assert.Throws<RespProtocolException>(() => RespReader.TryRead(ref buffer, out _));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    private static ReadOnlySequence<byte> Segments(byte[] bytes)
    {
        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (var i = 1; i < bytes.Length; i++)
        {
            last = last.Append(bytes.AsMemory(i, 1));
        }
        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }
}
