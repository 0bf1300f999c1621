using System.Net;
using System.Net.Http.Headers;

namespace Switchyard.Core.Guardrails.Http;

/// <summary>One outbound HTTP exchange of a check: a per-call timeout from the injected clock, SSRF-checked redirects, a capped body.</summary>
internal static class OutboundCall
{
    private const int MaxRedirects = 5;

    /// <summary>Sends a request and reads the whole body (up to <paramref name="maxBytes"/>).</summary>
    /// <exception cref="TimeoutException">The call did not finish within <paramref name="timeout"/>.</exception>
    /// <exception cref="OutboundCallException">A redirect was refused, the body was too large, or the connection failed.</exception>
    public static async Task<OutboundResponse> SendAsync(
        GuardrailServices services,
        HttpMethod method,
        Uri uri,
        Func<HttpContent?>? content,
        IReadOnlyList<KeyValuePair<string, string>> headers,
        TimeSpan timeout,
        long maxBytes,
        bool followRedirects,
        CancellationToken ct)
    {
        using var timeoutCts = new CancellationTokenSource(timeout, services.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutCts.Token);
        try
        {
            var current = uri;
            var currentMethod = method;
            for (var hop = 0; ; hop++)
            {
                using var request = new HttpRequestMessage(currentMethod, current);
                if (currentMethod != HttpMethod.Get && currentMethod != HttpMethod.Head) request.Content = content?.Invoke();
                foreach (var (name, value) in headers)
                {
                    if (!request.Headers.TryAddWithoutValidation(name, value)) request.Content?.Headers.TryAddWithoutValidation(name, value);
                }
                using var response = await services.Http.SendAsync(request, linked.Token).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                if (followRedirects && status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
                {
                    if (hop >= MaxRedirects) throw new OutboundCallException($"too many redirects (more than {MaxRedirects})");
                    var next = location.IsAbsoluteUri ? location : new Uri(current, location);
                    if (!GuardedUrl.TryCreate(services.Hosts, next.OriginalString, out var guarded, out var error))
                        throw new OutboundCallException("redirect refused: " + error);
                    current = guarded;
                    if (status == 303 && currentMethod != HttpMethod.Head) currentMethod = HttpMethod.Get;
                    continue;
                }
                if (currentMethod != HttpMethod.Head && response.Content.Headers.ContentLength is long declared && declared > maxBytes)
                    throw new OutboundCallException($"the response is {declared} bytes, more than the limit of {maxBytes}") { TooLarge = true };
                var body = currentMethod == HttpMethod.Head ? [] : await ReadCappedAsync(response.Content, maxBytes, linked.Token).ConfigureAwait(false);
                return new OutboundResponse(response.StatusCode, response.ReasonPhrase ?? "", response.Content.Headers.ContentType, body);
            }
        }
        catch (OperationCanceledException) when (timeoutCts.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new TimeoutException($"Request timed out after {(long)timeout.TotalMilliseconds}ms");
        }
        catch (HttpRequestException ex)
        {
            throw new OutboundCallException(ex.Message, ex);
        }
    }

    private static async Task<byte[]> ReadCappedAsync(HttpContent content, long maxBytes, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var memory = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await stream.ReadAsync(buffer, ct).ConfigureAwait(false);
            if (read == 0) break;
            if (memory.Length + read > maxBytes) throw new OutboundCallException($"the response is larger than the limit of {maxBytes} bytes") { TooLarge = true };
            memory.Write(buffer, 0, read);
        }
        return memory.ToArray();
    }
}

/// <summary>A fully read outbound response.</summary>
internal sealed record OutboundResponse(HttpStatusCode Status, string Reason, MediaTypeHeaderValue? ContentType, byte[] Body)
{
    public bool IsSuccess => (int)Status is >= 200 and <= 299;
}

/// <summary>An outbound call that failed for a reason other than a timeout.</summary>
internal sealed class OutboundCallException : Exception
{
    public OutboundCallException(string message) : base(message) { }

    public OutboundCallException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The response exceeded the size limit.</summary>
    public bool TooLarge { get; init; }
}
