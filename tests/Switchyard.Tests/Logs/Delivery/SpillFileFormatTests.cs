using System.Text;
using Switchyard.Core.Logs;
using Switchyard.Core.Logs.Delivery;
using Xunit;

namespace Switchyard.Tests.Logs.Delivery;

/// <summary>A spill file gives back its key and content exactly, and any torn or altered file is recognised as such.</summary>
public sealed class SpillFileFormatTests
{
    private static readonly LogObject Sample = new("30/org/ünïcode-key.json", Encoding.UTF8.GetBytes("""{"trace_id":"abc","status":200}"""));

    [Fact]
    public void Key_and_content_round_trip()
    {
        var back = SpillFileFormat.TryDecode(SpillFileFormat.Encode(Sample), out var problem);
        Assert.Null(problem);
        Assert.NotNull(back);
        Assert.Equal(Sample.Key, back.Key);
        Assert.Equal(Sample.Content, back.Content);
    }

    [Fact]
    public void Every_truncation_is_rejected()
    {
        var bytes = SpillFileFormat.Encode(Sample);
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Null(SpillFileFormat.TryDecode(bytes.AsSpan(0, length), out var problem));
            Assert.NotNull(problem);
        }
    }

    [Fact]
    public void Every_altered_byte_is_rejected()
    {
        var bytes = SpillFileFormat.Encode(Sample);
        for (var i = 0; i < bytes.Length; i++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[i] ^= 0x20;
            Assert.Null(SpillFileFormat.TryDecode(damaged, out _));
        }
    }

    [Fact]
    public void An_empty_key_cannot_be_spilled()
    {
        Assert.Throws<ArgumentException>(() => SpillFileFormat.Encode(new LogObject("", [1])));
    }
}
