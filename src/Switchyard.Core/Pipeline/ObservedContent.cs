using System.Net;
using Switchyard.Core.Streaming;

namespace Switchyard.Core.Pipeline;

/// <summary>
/// The outermost body of every answer: counts what the client received, notes the first byte, and completes the
/// request's context exactly once — at the end of the body, when it breaks, or when the reader lets go early.
/// Whoever reads the answer (the server's relay or an in-process <see cref="HttpClient"/>) needs to do nothing more.
/// </summary>
internal sealed class ObservedContent : HttpContent
{
    private readonly HttpContent _inner;
    private readonly RequestContext _context;

    public ObservedContent(HttpContent inner, RequestContext context)
    {
        _inner = inner;
        _context = context;
        foreach (var (name, values) in inner.Headers.NonValidated)
        {
            Headers.TryAddWithoutValidation(name, values);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => CopyAsync(stream, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct) => CopyAsync(stream, ct);

    protected override async Task<Stream> CreateContentReadStreamAsync() => new Observer(await _inner.ReadAsStreamAsync().ConfigureAwait(false), _context);

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken ct) => new Observer(await _inner.ReadAsStreamAsync(ct).ConfigureAwait(false), _context);

    protected override bool TryComputeLength(out long length)
    {
        length = _inner.Headers.ContentLength ?? 0;
        return _inner.Headers.ContentLength is not null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            if (!_context.IsCompleted)
            {
                // Let go before the end: the reader (client) stopped.
                _context.ClientAborted = true;
                _context.Complete();
            }
        }
        base.Dispose(disposing);
    }

    private async Task CopyAsync(Stream destination, CancellationToken ct)
    {
        await using var source = new Observer(await _inner.ReadAsStreamAsync(ct).ConfigureAwait(false), _context);
        await source.CopyToAsync(destination, ct).ConfigureAwait(false);
    }

    private sealed class Observer(Stream source, RequestContext context) : PullStream
    {
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
            if (n > 0)
            {
                if (context.ResponseBytes == 0)
                {
                    context.MarkFirstByte();
                }
                context.ResponseBytes += n;
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
            }
            base.Dispose(disposing);
        }
    }
}
