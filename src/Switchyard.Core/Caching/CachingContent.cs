using System.Buffers;
using Switchyard.Core.Streaming;

namespace Switchyard.Core.Caching;

/// <summary>
/// Passes a successful response through to the client unchanged while keeping a copy; when the body has been read to
/// its end and is complete, <paramref name="store"/> receives the copy before the end is reported to the reader. A
/// response that breaks off, that the client abandons, or that outgrows the entry limit is not stored.
/// </summary>
internal sealed class CachingContent(HttpContent inner, int maxBytes, ReadOnlyMemory<byte> completeMarker, Func<byte[], ValueTask> store)
    : PassThroughContent(inner, copyHeaders: false)
{
    private readonly int _maxBytes = maxBytes;
    private readonly Func<byte[], ValueTask> _store = store;
    private readonly long? _length = inner.Headers.ContentLength;

    protected override Stream Watch(Stream source) => new Tee(source, this);

    private bool IsComplete(ReadOnlySpan<byte> body)
    {
        if (completeMarker.IsEmpty)
        {
            return true;
        }
        // The terminal event is the last one of a finished stream; a stream that ended early lacks it. Its name is at
        // its start, and it can be long (response.completed repeats the whole response), so look at the last event's head.
        var last = LastEventStart(body);
        var head = body[last..];
        return head[..Math.Min(head.Length, 256)].IndexOf(completeMarker.Span) >= 0;
    }

    /// <summary>Where the last whole event of an event stream starts (after the blank line that ends the one before it).</summary>
    private static int LastEventStart(ReadOnlySpan<byte> body)
    {
        var start = 0;
        // Without its final line breaks the last event is incomplete to the splitter, so the walk stops at its start.
        var rest = body.TrimEnd("\r\n"u8);
        while (SseEventSplitter.EventLength(rest) is > 0 and var length)
        {
            start += length;
            rest = rest[length..];
        }
        return start;
    }

    private sealed class Tee(Stream source, CachingContent owner) : PullStream
    {
        private ArrayBufferWriter<byte>? _copy = new(4096);
        private bool _finished;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            var n = await source.ReadAsync(buffer, ct).ConfigureAwait(false);
            if (buffer.IsEmpty)
            {
                return n; // a reader waiting for data, not the end
            }
            if (n > 0)
            {
                if (_copy is not null)
                {
                    if (_copy.WrittenCount + n > owner._maxBytes)
                    {
                        _copy = null; // Too large to cache; the client still gets all of it.
                    }
                    else
                    {
                        _copy.Write(buffer.Span[..n]);
                        // With a declared length the client is done as soon as it has the last byte, before this stream
                        // reports its end: store first, so the next identical request finds the entry.
                        if (owner._length == _copy.WrittenCount)
                        {
                            await FinishAsync().ConfigureAwait(false);
                        }
                    }
                }
                return n;
            }
            await FinishAsync().ConfigureAwait(false);
            return 0;
        }

        private async ValueTask FinishAsync()
        {
            if (!_finished && _copy is not null && owner.IsComplete(_copy.WrittenSpan))
            {
                _finished = true;
                await owner._store(_copy.WrittenSpan.ToArray()).ConfigureAwait(false);
            }
            _copy = null;
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
