using System.Net;

namespace Switchyard.Core.Streaming;

/// <summary>
/// A body that hands on another body's bytes through a watching (or rewriting) stream (<see cref="Watch"/>): the usage
/// tap, the cache's write-through, the request's observer, usage stripping and the guardrails' stream filter. The inner body's length and headers are kept; disposing disposes it.
/// </summary>
internal abstract class PassThroughContent : HttpContent
{
    protected PassThroughContent(HttpContent inner, bool copyHeaders)
    {
        Inner = inner;
        if (copyHeaders)
        {
            foreach (var (name, values) in inner.Headers.NonValidated)
            {
                // One value (the usual case) goes in as a string: stored as is, with no boxing and no per-header item.
                if (values.Count == 1)
                {
                    Headers.TryAddWithoutValidation(name, values.ToString());
                }
                else
                {
                    Headers.TryAddWithoutValidation(name, values);
                }
            }
        }
    }

    protected HttpContent Inner { get; }

    /// <summary>
    /// Whether <paramref name="headers"/> declare an event stream, read from the raw value: the typed
    /// <see cref="System.Net.Http.Headers.HttpContentHeaders.ContentType"/> would parse (and allocate) a copied header again.
    /// </summary>
    public static bool IsEventStream(System.Net.Http.Headers.HttpContentHeaders headers) =>
        headers.NonValidated.TryGetValues("Content-Type", out var values)
        && values.ToString().AsSpan().TrimStart().StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>The stream the reader gets, reading from <paramref name="source"/> (the inner body).</summary>
    protected abstract Stream Watch(Stream source);

    /// <summary>False for a body that rewrites what passes (its length is then unknown).</summary>
    protected virtual bool KeepsLength => true;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => CopyAsync(stream, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct) => CopyAsync(stream, ct);

    protected override async Task<Stream> CreateContentReadStreamAsync() => Watch(await Inner.ReadAsStreamAsync().ConfigureAwait(false));

    protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken ct)
    {
        var inner = Inner.ReadAsStreamAsync(ct);
        return inner.IsCompletedSuccessfully ? Task.FromResult(Watch(inner.Result)) : WatchAsync(inner);
    }

    private async Task<Stream> WatchAsync(Task<Stream> inner) => Watch(await inner.ConfigureAwait(false));

    protected override bool TryComputeLength(out long length)
    {
        length = KeepsLength ? Inner.Headers.ContentLength ?? 0 : 0;
        return KeepsLength && Inner.Headers.ContentLength is not null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Inner.Dispose();
        }
        base.Dispose(disposing);
    }

    private async Task CopyAsync(Stream destination, CancellationToken ct)
    {
        await using var source = Watch(await Inner.ReadAsStreamAsync(ct).ConfigureAwait(false));
        await source.CopyToAsync(destination, ct).ConfigureAwait(false);
    }
}
