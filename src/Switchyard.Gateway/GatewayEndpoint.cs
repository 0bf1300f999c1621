using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using Switchyard.Core.Errors;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;
using Switchyard.Core.Routing;
using Switchyard.Core.Usage;

namespace Switchyard.Gateway;

/// <summary>Serves every <c>/v1/*</c> route: adapts the HTTP request to the engine and relays the outcome as it arrives.</summary>
internal sealed class GatewayEndpoint(GatewayEngine engine, IdleMemoryTrimmer trimmer, ILogger<GatewayEndpoint> logger)
{
    private const int CopyBufferSize = 16 * 1024;

    public async Task HandleAsync(HttpContext context)
    {
        trimmer.Touch();
        var traceId = context.Request.Headers["x-portkey-trace-id"].ToString();
        if (traceId.Length == 0)
        {
            traceId = Guid.CreateVersion7().ToString();
        }
        context.Response.Headers["x-portkey-trace-id"] = traceId;
        var exchange = new Exchange(traceId);
        try
        {
            await ServeAsync(context, exchange);
        }
        finally
        {
            // Off the request path: the record is queued for the background writer.
            engine.RequestLog?.TryWrite(exchange.ToRecord(context));
            exchange.Outcome?.Dispose();
        }
    }

    private async Task ServeAsync(HttpContext context, Exchange exchange)
    {
        var http = context.Request;
        var path = http.Path.Value ?? "/v1";
        var upstreamPath = path.Length > 3 ? path[3..] : "/";
        var method = http.Method;
        var endpoint = EndpointKinds.FromUpstreamPath(method, upstreamPath);

        // A declared length over the limit is refused before reading; an undeclared (chunked) one while reading.
        var body = http.ContentLength > engine.Settings.MaxRequestBodyBytes ? null : await ReadBodyAsync(http, context.RequestAborted);
        if (body is null)
        {
            await FailAsync(context, exchange, new GatewayError(ErrorCategory.PayloadTooLarge,
                $"Payload size exceeds the limit of {engine.Settings.MaxRequestBodyBytes / (1024 * 1024)}MB"));
            return;
        }

        var request = new GatewayRequest
        {
            Method = method,
            Endpoint = endpoint,
            Path = path,
            UpstreamPath = upstreamPath,
            QueryString = http.QueryString.Value ?? "",
            Headers = new HttpRequestHeaders(http.Headers),
            Body = body,
            ContentType = http.ContentType,
        };
        exchange.Request = request;

        if (Validate(request) is { } invalid)
        {
            await FailAsync(context, exchange, invalid);
            return;
        }

        var plan = engine.Resolver.Resolve(request.Headers, out var planError);
        if (plan is null)
        {
            await FailAsync(context, exchange, planError!);
            return;
        }
        exchange.Plan = plan;

        try
        {
            exchange.Outcome = await engine.Router.RouteAsync(request, plan, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            exchange.ClientAborted = true;
            return; // The client left; the upstream call was cancelled with it.
        }
        await RelayAsync(context, exchange, exchange.Outcome);
    }

    private static Task FailAsync(HttpContext context, Exchange exchange, GatewayError error)
    {
        exchange.Error = error;
        exchange.MarkHeadersSent();
        return ErrorResponses.WriteAsync(context, error);
    }

    private static GatewayError? Validate(GatewayRequest request)
    {
        if (!request.Endpoint.HasJsonBody() || request.Method != "POST")
        {
            return null;
        }
        if (!request.IsJson)
        {
            return GatewayError.Invalid($"Invalid content type '{request.ContentType ?? "(none)"}': {request.Path} takes application/json");
        }
        var facts = request.BodyFacts;
        return facts.Error is { } message ? GatewayError.Invalid($"Invalid request body: {message}") : null;
    }

    private async Task<byte[]?> ReadBodyAsync(HttpRequest http, CancellationToken ct)
    {
        var limit = engine.Settings.MaxRequestBodyBytes;
        if (http.ContentLength is 0)
        {
            return [];
        }
        if (http.ContentLength is { } length)
        {
            // Known length: one exact allocation, no copies.
            var exact = new byte[length];
            var read = 0;
            while (read < exact.Length)
            {
                var n = await http.Body.ReadAsync(exact.AsMemory(read), ct);
                if (n == 0)
                {
                    break;
                }
                read += n;
            }
            return read == exact.Length ? exact : exact[..read];
        }
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            int n;
            while ((n = await http.Body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + n > limit)
                {
                    return null;
                }
                buffer.Write(chunk, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return buffer.ToArray();
    }

    private static Microsoft.Extensions.Primitives.StringValues Values(System.Net.Http.Headers.HeaderStringValues values)
    {
        if (values.Count == 1)
        {
            foreach (var v in values)
            {
                return v;
            }
        }
        var array = new string[values.Count];
        var i = 0;
        foreach (var v in values)
        {
            array[i++] = v;
        }
        return array;
    }

    private async Task RelayAsync(HttpContext context, Exchange exchange, RouteOutcome outcome)
    {
        var response = context.Response;
        var headers = response.Headers;
        headers["x-portkey-last-used-option-index"] = outcome.LastUsedOptionIndex;
        headers["x-portkey-retry-attempt-count"] = outcome.RetryAttemptCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (outcome.Provider is { } provider)
        {
            headers["x-portkey-provider"] = provider;
        }
        headers["x-portkey-cache-status"] = outcome.CacheStatus ?? Switchyard.Core.Caching.CacheStatus.Disabled;
        if (outcome.Error is { } error)
        {
            await FailAsync(context, exchange, error);
            return;
        }

        var upstream = outcome.Response!;
        response.StatusCode = (int)upstream.StatusCode;
        // NonValidated: relay header values as received, without parsing them into typed values first.
        foreach (var (name, values) in upstream.Headers.NonValidated)
        {
            if (!UpstreamHeaders.IsHopByHop(name))
            {
                headers[name] = Values(values);
            }
        }
        foreach (var (name, values) in upstream.Content.Headers.NonValidated)
        {
            if (!UpstreamHeaders.IsHopByHop(name))
            {
                headers[name] = Values(values);
            }
        }
        var contentLength = upstream.Content.Headers.ContentLength;
        if (contentLength is { } length)
        {
            response.ContentLength = length;
        }
        var mediaType = upstream.Content.Headers.ContentType?.MediaType;
        var isEventStream = mediaType == "text/event-stream";
        if (isEventStream)
        {
            // Proxies in front of the gateway must not hold events back either.
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            headers["x-accel-buffering"] = "no";
        }
        if (engine.RequestLog is not null && upstream.IsSuccessStatusCode && (isEventStream || mediaType == "application/json"))
        {
            exchange.Tap = new ResponseTap(isEventStream, contentLength);
        }

        var ct = context.RequestAborted;
        Stream source;
        try
        {
            source = await upstream.Content.ReadAsStreamAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            exchange.ClientAborted = true;
            return;
        }
        exchange.MarkHeadersSent();
        var tap = exchange.Tap;
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            await using (source)
            {
                int n;
                while ((n = await source.ReadAsync(buffer, ct)) > 0)
                {
                    tap?.Observe(buffer.AsSpan(0, n));
                    exchange.ResponseBytes += n;
                    // Each write is flushed by Kestrel, so an SSE event leaves as soon as it arrives.
                    await response.Body.WriteAsync(buffer.AsMemory(0, n), ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Client went away; disposing the outcome closes the upstream connection, cancelling the provider's work.
            exchange.ClientAborted = true;
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            if (ct.IsCancellationRequested)
            {
                exchange.ClientAborted = true;
                return;
            }
            // The upstream broke mid-body. Aborting tells the client the response is incomplete instead of ending it cleanly.
            logger.LogWarning("Upstream {Provider} broke off the response for {Path} after it started: {Reason}", outcome.Provider, exchange.Request?.Path, ex.Message);
            context.Abort();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
