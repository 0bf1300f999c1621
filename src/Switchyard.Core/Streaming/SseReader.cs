using System.Text;

namespace Switchyard.Core.Streaming;

/// <summary>One server-sent event: its <c>event:</c> name (null when absent) and its <c>data:</c> lines joined by '\n'.</summary>
public readonly record struct SseEvent(string? Name, string Data);

/// <summary>Parses a server-sent-event byte stream, fed in arbitrary slices, into events; framing comes from <see cref="SseEventSplitter"/>.</summary>
public sealed class SseReader
{
    private readonly SseEventSplitter _splitter = new();

    /// <summary>Feeds bytes; complete events are appended to <paramref name="events"/>.</summary>
    public void Feed(ReadOnlySpan<byte> bytes, List<SseEvent> events)
    {
        _splitter.Append(bytes);
        while (_splitter.TryRead(out var evt))
        {
            Parse(evt, events);
        }
    }

    /// <summary>Ends the stream: an unterminated last event is still delivered.</summary>
    public void Finish(List<SseEvent> events)
    {
        var rest = _splitter.TakeRest();
        if (!rest.IsEmpty)
        {
            Parse(rest, events);
        }
    }

    /// <summary>The <c>data:</c> payload of one raw event (lines joined by '\n'), or null when it has none.</summary>
    public static string? Data(ReadOnlySpan<byte> evt) => Read(evt).Data;

    private static void Parse(ReadOnlySpan<byte> evt, List<SseEvent> events)
    {
        var (name, data) = Read(evt);
        if (data is not null)
        {
            events.Add(new SseEvent(name, data));
        }
    }

    private static (string? Name, string? Data) Read(ReadOnlySpan<byte> evt)
    {
        string? name = null;
        StringBuilder? data = null;
        foreach (var line in SseEventSplitter.Lines(evt))
        {
            if (line.IsEmpty || line[0] == (byte)':')
            {
                continue; // the blank terminator, or a comment
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
                if (data is null)
                {
                    data = new StringBuilder(Encoding.UTF8.GetString(value));
                }
                else
                {
                    data.Append('\n').Append(Encoding.UTF8.GetString(value));
                }
            }
            else if (field.SequenceEqual("event"u8))
            {
                name = Encoding.UTF8.GetString(value);
            }
        }
        return (name, data?.ToString());
    }
}
