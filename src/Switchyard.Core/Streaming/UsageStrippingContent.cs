using System.Buffers;
using System.Net;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Usage;

namespace Switchyard.Core.Streaming;

/// <summary>
/// An OpenAI chat event stream with the usage-only chunk removed: the gateway asked upstream for it (so usage is
/// known for every stream), the client did not. The usage it carried is reported to the request's usage sink.
/// </summary>
internal sealed class UsageStrippingContent(HttpContent inner, IUsageSink sink) : PassThroughContent(inner, copyHeaders: false)
{
    protected override bool KeepsLength => false;

    protected override Stream Watch(Stream source) => new Filter(sink, source);

    /// <summary>Passes whole events through as they complete; an event whose data has <c>"choices":[]</c> and a usage is dropped.</summary>
    private sealed class Filter(IUsageSink sink, Stream source) : PullStream
    {
        private readonly SseEventSplitter _splitter = new();
        private readonly ArrayBufferWriter<byte> _output = new(4096);
        private int _offset;
        private bool _done;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (buffer.IsEmpty)
            {
                // A reader waiting for data: pass the wait on unless there is output already.
                if (_offset >= _output.WrittenCount && !_done)
                {
                    _ = await source.ReadAsync(buffer, ct).ConfigureAwait(false);
                }
                return 0;
            }
            while (_offset >= _output.WrittenCount)
            {
                if (_done)
                {
                    return 0;
                }
                _output.ResetWrittenCount();
                _offset = 0;
                var n = await ReadPooledAsync(source, this, static (self, input) => self.Consume(input), ct).ConfigureAwait(false);
                if (n == 0)
                {
                    _done = true;
                    Emit(_splitter.TakeRest());
                }
            }
            var count = Math.Min(buffer.Length, _output.WrittenCount - _offset);
            _output.WrittenMemory.Slice(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }

        private void Consume(ReadOnlySpan<byte> input)
        {
            if (input.IsEmpty)
            {
                return;
            }
            _splitter.Append(input);
            while (_splitter.TryRead(out var evt))
            {
                Emit(evt);
            }
        }

        private void Emit(ReadOnlySpan<byte> evt)
        {
            if (evt.IsEmpty)
            {
                return;
            }
            if (evt.IndexOf("\"choices\":[]"u8) >= 0 && evt.IndexOf("\"usage\""u8) >= 0 && SseReader.Data(evt) is { } data)
            {
                var (usage, model) = UsageReader.FromJson(System.Text.Encoding.UTF8.GetBytes(data));
                sink.ReportUsage(usage, model);
                return;
            }
            WriteWithoutNullUsage(evt);
        }

        /// <summary>With include_usage, OpenAI puts <c>"usage":null</c> on every chunk; a client that did not ask gets chunks without it.</summary>
        private void WriteWithoutNullUsage(ReadOnlySpan<byte> evt)
        {
            while (true)
            {
                var at = evt.IndexOf(",\"usage\":"u8);
                if (at < 0)
                {
                    break;
                }
                var rest = evt[(at + 9)..];
                var skip = rest.Length > 0 && rest[0] == ' ' ? 1 : 0;
                if (!rest[skip..].StartsWith("null"u8))
                {
                    break;
                }
                _output.Write(evt[..at]);
                evt = rest[(skip + 4)..];
            }
            _output.Write(evt);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                source.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
