using Switchyard.Core.Pipeline;
using Switchyard.Core.Streaming;

namespace Switchyard.Core.Usage;

/// <summary>
/// A pass-through body (the provider's bytes, unchanged) that watches what it relays through a <see cref="ResponseTap"/>
/// and reports the usage it found when the body ends. Nothing is held back from the reader.
/// </summary>
internal sealed class UsageTapContent : PassThroughContent
{
    private readonly ResponseTap _tap;
    private readonly IUsageSink _sink;

    public UsageTapContent(HttpContent inner, bool isEventStream, IUsageSink sink)
        : base(inner, copyHeaders: true)
    {
        _sink = sink;
        _tap = new ResponseTap(isEventStream, inner.Headers.ContentLength);
    }

    protected override Stream Watch(Stream source) => new Tap(source, this);

    private sealed class Tap(Stream source, UsageTapContent owner) : PullStream
    {
        private bool _reported;
        private long _seen;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            var n = await source.ReadAsync(buffer, ct).ConfigureAwait(false);
            if (buffer.IsEmpty)
            {
                return n; // a reader waiting for data, not the end
            }
            if (n > 0)
            {
                owner._tap.Observe(buffer.Span[..n]);
                _seen += n;
                if (_seen == owner.Inner.Headers.ContentLength)
                {
                    // The reader has everything it was promised and may not ask again.
                    Report();
                }
            }
            else
            {
                Report();
            }
            return n;
        }

        private void Report()
        {
            if (!_reported)
            {
                _reported = true;
                var (usage, model) = owner._tap.Read();
                owner._sink.ReportUsage(usage, model);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                source.Dispose();
                // A reader may stop at the stream's last event without reading its end: what was seen still counts.
                Report();
            }
            base.Dispose(disposing);
        }
    }
}
