using System.Buffers;
using System.Text;

namespace Switchyard.Core.Translation;

/// <summary>One server-sent event: its <c>event:</c> name (null when absent) and its <c>data:</c> lines joined by '\n'.</summary>
public readonly record struct SseEvent(string? Name, string Data);

/// <summary>Splits a server-sent-event byte stream, fed in arbitrary slices, into events (LF, CRLF or CR line ends).</summary>
public sealed class SseReader
{
    private readonly ArrayBufferWriter<byte> _pending = new();
    private string? _name;
    private StringBuilder? _data;
    private bool _skipLf;

    /// <summary>Feeds bytes; complete events are appended to <paramref name="events"/>.</summary>
    public void Feed(ReadOnlySpan<byte> bytes, List<SseEvent> events)
    {
        foreach (var b in bytes)
        {
            if (_skipLf)
            {
                _skipLf = false;
                if (b == (byte)'\n')
                {
                    continue;
                }
            }
            if (b is (byte)'\n' or (byte)'\r')
            {
                _skipLf = b == (byte)'\r';
                Line(_pending.WrittenSpan, events);
                _pending.ResetWrittenCount();
                continue;
            }
            _pending.GetSpan(1)[0] = b;
            _pending.Advance(1);
        }
    }

    /// <summary>Ends the stream: an unterminated last event is still delivered.</summary>
    public void Finish(List<SseEvent> events)
    {
        if (_pending.WrittenCount > 0)
        {
            Line(_pending.WrittenSpan, events);
            _pending.ResetWrittenCount();
        }
        Line([], events);
    }

    private void Line(ReadOnlySpan<byte> line, List<SseEvent> events)
    {
        if (line.IsEmpty)
        {
            if (_data is not null)
            {
                events.Add(new SseEvent(_name, _data.ToString()));
            }
            _name = null;
            _data = null;
            return;
        }
        if (line[0] == (byte)':')
        {
            return; // comment
        }
        var colon = line.IndexOf((byte)':');
        var field = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? [] : line[(colon + 1)..];
        if (!value.IsEmpty && value[0] == (byte)' ')
        {
            value = value[1..];
        }
        if (field.SequenceEqual("data"u8))
        {
            if (_data is null)
            {
                _data = new StringBuilder(Encoding.UTF8.GetString(value));
            }
            else
            {
                _data.Append('\n').Append(Encoding.UTF8.GetString(value));
            }
        }
        else if (field.SequenceEqual("event"u8))
        {
            _name = Encoding.UTF8.GetString(value);
        }
    }
}
