using Switchyard.Core.Streaming;

namespace Switchyard.Core.Pipeline;

/// <summary>
/// The outermost body of every answer: counts what the client received, notes the first byte, and completes the
/// request's context exactly once — at the end of the body, when it breaks, or when the reader lets go early.
/// Whoever reads the answer (the server's relay or an in-process <see cref="HttpClient"/>) needs to do nothing more.
/// </summary>
internal sealed class ObservedContent : PassThroughContent
{
    private readonly RequestContext _context;
    private readonly IDisposable? _owned;

    /// <param name="owned">Disposed with this body (the upstream attempt's cancellation scope).</param>
    public ObservedContent(HttpContent inner, RequestContext context, IDisposable? owned = null)
        : base(inner, copyHeaders: true)
    {
        _context = context;
        _owned = owned;
    }

    protected override Stream Watch(Stream source)
    {
        var isEventStream = IsEventStream(Inner.Headers);
        if (isEventStream)
        {
            _context.StreamStarted();
        }
        if (_context.CaptureLimit > 0)
        {
            _context.ResponseCapture = new Logs.Bodies.BodyCapture(_context.CaptureLimit);
            _context.ResponseContentType = Inner.Headers.ContentType?.ToString();
        }
        return new Observer(source, _context, Inner.Headers.ContentLength, isEventStream);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The inner bodies first: a usage tap reports what it saw before the request completes.
            Inner.Dispose();
            _owned?.Dispose();
            if (!_context.IsCompleted)
            {
                // Let go before the end: the reader (client) stopped.
                _context.ClientAborted = true;
                _context.Complete();
            }
        }
        base.Dispose(disposing);
    }

    /// <param name="length">The declared length: a reader that has all of it may stop without reading the end (SDKs do).</param>
    /// <param name="isEventStream">SDKs stop reading at the stream's terminal event and close the stream without reading its end.</param>
    private sealed class Observer(Stream source, RequestContext context, long? length, bool isEventStream) : PullStream
    {
        private bool _sawTerminalEvent;

        [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            int n;
            try
            {
                n = await source.ReadAsync(buffer, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                context.ClientAborted = true;
                context.Complete();
                throw;
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                if (ct.IsCancellationRequested)
                {
                    context.ClientAborted = true;
                }
                else
                {
                    context.UpstreamBroke = true;
                }
                context.Complete();
                throw;
            }
            if (buffer.IsEmpty)
            {
                return n; // a reader waiting for data, not the end
            }
            if (n > 0)
            {
                if (context.ResponseBytes == 0)
                {
                    context.MarkFirstByte();
                }
                context.ResponseBytes += n;
                context.ResponseCapture?.Append(buffer.Span[..n]);
                if (isEventStream && !_sawTerminalEvent)
                {
                    var span = buffer.Span[..n];
                    _sawTerminalEvent = span.IndexOf("[DONE]"u8) >= 0 || span.IndexOf("message_stop"u8) >= 0 || span.IndexOf("response.completed"u8) >= 0;
                }
                if (context.ResponseBytes == length)
                {
                    context.Complete();
                }
            }
            else
            {
                context.Complete();
            }
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                source.Dispose();
                if (!context.IsCompleted)
                {
                    // Closed before the end: complete unless the reader just stopped after the stream's last event.
                    context.ClientAborted = !_sawTerminalEvent;
                    context.Complete();
                }
            }
            base.Dispose(disposing);
        }
    }
}
