using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using Switchyard.Core.Errors;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;
using Switchyard.Core.Routing;

namespace Switchyard.Gateway;

/// <summary>Serves every <c>/v1/*</c> route: adapts the HTTP request to the engine and relays the outcome as it arrives.</summary>
internal sealed class GatewayEndpoint(GatewayEngine engine, ILogger<GatewayEndpoint> logger)
{
    private const int CopyBufferSize = 16 * 1024;

    public async Task HandleAsync(HttpContext context)
    {
        var http = context.Request;
        var traceId = http.Headers["x-portkey-trace-id"].ToString();
        if (traceId.Length == 0)
        {
            traceId = Guid.CreateVersion7().ToString();
        }
        context.Response.Headers["x-portkey-trace-id"] = traceId;

        var path = http.Path.Value ?? "/v1";
        var upstreamPath = path.Length > 3 ? path[3..] : "/";
        var method = http.Method;
        var endpoint = EndpointKinds.FromUpstreamPath(method, upstreamPath);

        if (http.ContentLength is { } declared && declared > engine.Settings.MaxRequestBodyBytes)
        {
            await ErrorResponses.WriteAsync(context, new GatewayError(ErrorCategory.PayloadTooLarge,
                $"Payload size exceeds the limit of {engine.Settings.MaxRequestBodyBytes / (1024 * 1024)}MB"));
            return;
        }
        var body = await ReadBodyAsync(http, context.RequestAborted);
        if (body is null)
        {
            await ErrorResponses.WriteAsync(context, new GatewayError(ErrorCategory.PayloadTooLarge,
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

        if (Validate(request) is { } invalid)
        {
            await ErrorResponses.WriteAsync(context, invalid);
            return;
        }

        var plan = engine.Resolver.Resolve(request.Headers, out var planError);
        if (plan is null)
        {
            await ErrorResponses.WriteAsync(context, planError!);
            return;
        }

        RouteOutcome outcome;
        try
        {
            outcome = await engine.Router.RouteAsync(request, plan, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // The client left; the upstream call was cancelled with it.
        }
        using (outcome)
        {
            await RelayAsync(context, request, outcome);
        }
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

    private async Task RelayAsync(HttpContext context, GatewayRequest request, RouteOutcome outcome)
    {
        var response = context.Response;
        var headers = response.Headers;
        headers["x-portkey-last-used-option-index"] = outcome.LastUsedOptionIndex;
        headers["x-portkey-retry-attempt-count"] = outcome.RetryAttemptCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (outcome.Provider is { } provider)
        {
            headers["x-portkey-provider"] = provider;
        }
        if (outcome.Error is { } error)
        {
            await ErrorResponses.WriteAsync(context, error);
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
        if (upstream.Content.Headers.ContentLength is { } length)
        {
            response.ContentLength = length;
        }
        var isEventStream = upstream.Content.Headers.ContentType?.MediaType == "text/event-stream";
        if (isEventStream)
        {
            // Proxies in front of the gateway must not hold events back either.
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            headers["x-accel-buffering"] = "no";
        }

        var ct = context.RequestAborted;
        Stream source;
        try
        {
            source = await upstream.Content.ReadAsStreamAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            await using (source)
            {
                int n;
                while ((n = await source.ReadAsync(buffer, ct)) > 0)
                {
                    // Each write is flushed by Kestrel, so an SSE event leaves as soon as it arrives.
                    await response.Body.WriteAsync(buffer.AsMemory(0, n), ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Client went away; disposing the outcome closes the upstream connection, cancelling the provider's work.
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            // The upstream broke mid-body. Aborting tells the client the response is incomplete instead of ending it cleanly.
            logger.LogWarning("Upstream {Provider} broke off the response for {Path} after it started: {Reason}", outcome.Provider, request.Path, ex.Message);
            context.Abort();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
