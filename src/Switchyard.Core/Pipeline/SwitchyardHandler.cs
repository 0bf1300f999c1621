using Switchyard.Core.Errors;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Pipeline;

/// <summary>
/// The gateway in-process: an <see cref="HttpMessageHandler"/> that serves <c>/v1/*</c> requests through the same
/// pipeline as the server, with no socket in between. Give it to any <see cref="HttpClient"/> (the OpenAI SDK's, say)
/// whose base address ends in <c>/v1</c>; the host part of the address is not used.
/// </summary>
public sealed class SwitchyardHandler : HttpMessageHandler
{
    private readonly SwitchyardEngine _engine;
    private readonly bool _disposeEngine;

    /// <param name="disposeEngine">Dispose (and flush the log of) the engine when the handler is disposed.</param>
    public SwitchyardHandler(SwitchyardEngine engine, bool disposeEngine = false)
    {
        _engine = engine;
        _disposeEngine = disposeEngine;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("the request has no URI");
        var path = uri.IsAbsoluteUri ? uri.AbsolutePath : uri.OriginalString.Split('?')[0];
        var headers = new HeaderBag();
        foreach (var (name, values) in request.Headers.NonValidated)
        {
            headers.Set(name, string.Join(",", values));
        }
        if (request.Content is { } content)
        {
            foreach (var (name, values) in content.Headers.NonValidated)
            {
                headers.Set(name, string.Join(",", values));
            }
        }
        if (headers.Get("traceparent") is null && System.Diagnostics.Activity.Current is { IdFormat: System.Diagnostics.ActivityIdFormat.W3C } ambient)
        {
            // In-process there is no HTTP hop to carry the caller's trace context: take it from the caller's activity, as
            // HttpClient would have sent it over a socket, so the request span continues the caller's trace.
            headers.Set("traceparent", ambient.Id!);
            if (ambient.TraceStateString is { Length: > 0 } state)
            {
                headers.Set("tracestate", state);
            }
        }
        var context = _engine.CreateContext(headers.Get("x-portkey-trace-id"));
        var upstreamPath = path.StartsWith("/v1/", StringComparison.Ordinal) || path == "/v1" ? (path.Length > 3 ? path[3..] : "/") : null;
        var method = request.Method.Method;
        var gatewayRequest = new GatewayRequest
        {
            Method = method,
            Endpoint = upstreamPath is null ? EndpointKind.Proxy : EndpointKinds.FromUpstreamPath(method, upstreamPath),
            Path = path,
            UpstreamPath = upstreamPath ?? path,
            QueryString = uri.IsAbsoluteUri ? uri.Query : "",
            Headers = headers,
            Body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false),
            ContentType = request.Content?.Headers.ContentType?.ToString(),
        };
        HttpResponseMessage response;
        if (upstreamPath is null)
        {
            context.Request = gatewayRequest;
            response = GatewayPipeline.Answer(context, new GatewayError(ErrorCategory.NotFound, "Not Found"));
        }
        else
        {
            response = await _engine.SendAsync(gatewayRequest, context, ct).ConfigureAwait(false);
        }
        // The upstream's framing headers described its connection, not this in-memory answer.
        foreach (var name in response.Headers.NonValidated.Select(h => h.Key).Where(UpstreamHeaders.IsHopByHop).ToList())
        {
            response.Headers.Remove(name);
        }
        PortkeyHeaders.Write(context, response, static (r, name, value) =>
        {
            r.Headers.Remove(name);
            r.Headers.TryAddWithoutValidation(name, value);
        });
        response.RequestMessage = request;
        return response;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _disposeEngine)
        {
            _engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }
}
