using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using Switchyard.Core.Errors;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;
using Switchyard.Gateway.Hosting;

namespace Switchyard.Gateway.Endpoints;

/// <summary>
/// Serves every <c>/v1/*</c> route by adapting HTTP to the engine: the request becomes a <see cref="GatewayRequest"/>,
/// the engine's answer is relayed as it arrives. Nothing about routing, caching or providers lives here.
/// </summary>
internal sealed class GatewayEndpoint(SwitchyardEngine engine, IdleMemoryTrimmer trimmer, LoadShedder shedder, ILogger<GatewayEndpoint> logger,
    ApiKeyGate? gate = null)
{
    private const int CopyBufferSize = 16 * 1024;

    // One async method for the whole exchange: every awaited layer on the hot path costs a state machine and a continuation.
    public async Task HandleAsync(HttpContext http)
    {
        trimmer.Touch();
        if (!shedder.TryEnter(out var shedReason))
        {
            await shedder.RefuseAsync(http, shedReason!);
            return;
        }
        try
        {
            await ServeAsync(http);
        }
        finally
        {
            shedder.Exit();
        }
    }

    private async Task ServeAsync(HttpContext http)
    {
        // AUTH_MODE=none costs this one branch.
        Core.Security.ApiKeys.ApiKey? key = null;
        if (gate is not null)
        {
            var auth = await gate.AuthenticateAsync(http.Request, http.RequestAborted);
            key = auth.Key;
            if (key is null)
            {
                await ApiKeyGate.WriteAsync(http, auth.Refusal!);
                return;
            }
        }
        var context = engine.CreateContext(http.Request.Headers["x-portkey-trace-id"].ToString());
        var ct = http.RequestAborted;
        HttpResponseMessage response;
        try
        {
            var request = http.Request;
            var limit = engine.Settings.Limits.MaxBodyBytes;
            // A declared length over the limit is refused before reading; an undeclared (chunked) one while reading.
            var body = request.ContentLength > limit ? null : await ReadBodyAsync(request, limit, ct);
            var gatewayRequest = Adapt(request, body);
            if (key is not null)
            {
                // After the body is read: the model allow list needs the request's model.
                var refusal = ApiKeyGate.Authorize(key, Core.Security.ApiKeys.ApiKeyScopes.CompletionsWrite, request.Headers,
                    body is null ? null : gatewayRequest.BodyFacts.Model, engine);
                if (refusal is not null)
                {
                    await ApiKeyGate.WriteAsync(http, refusal);
                    return;
                }
                ApiKeyGate.MergeMetadata(key, request.Headers);
                context.ApiKey = key;
            }
            if (body is null)
            {
                context.Request = gatewayRequest;
                response = GatewayPipeline.Answer(context, new GatewayError(ErrorCategory.PayloadTooLarge, $"Payload size exceeds the limit of {limit / (1024 * 1024)}MB"));
            }
            else
            {
                response = await engine.SendAsync(gatewayRequest, context, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return; // The client left before the answer existed; the engine completed the context as aborted.
        }
        using (response)
        {
            await RelayAsync(http, context, response, ct);
        }
    }

    private static GatewayRequest Adapt(HttpRequest request, byte[]? body)
    {
        var path = request.Path.Value ?? "/v1";
        var upstreamPath = path.Length > 3 ? path[3..] : "/";
        return new GatewayRequest
        {
            Method = request.Method,
            Endpoint = EndpointKinds.FromUpstreamPath(request.Method, upstreamPath),
            Path = path,
            UpstreamPath = upstreamPath,
            QueryString = request.QueryString.Value ?? "",
            Headers = new HttpRequestHeaders(request.Headers),
            Body = body ?? [],
            ContentType = request.ContentType,
        };
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest http, long limit, CancellationToken ct)
    {
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

    private async Task RelayAsync(HttpContext http, RequestContext context, HttpResponseMessage answer, CancellationToken ct)
    {
        var response = http.Response;
        var headers = response.Headers;
        response.StatusCode = (int)answer.StatusCode;
        // NonValidated: relay header values as received, without parsing them into typed values first.
        foreach (var (name, values) in answer.Headers.NonValidated)
        {
            if (!UpstreamHeaders.IsHopByHop(name))
            {
                headers[name] = Values(values);
            }
        }
        var isEventStream = false;
        foreach (var (name, values) in answer.Content.Headers.NonValidated)
        {
            if (!UpstreamHeaders.IsHopByHop(name))
            {
                var relayed = Values(values);
                headers[name] = relayed;
                // Read from the raw value: the typed ContentType would parse (and allocate) it once more.
                isEventStream |= name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)
                    && relayed.ToString().StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);
            }
        }
        PortkeyHeaders.Write(context, headers, static (h, name, value) => h[name] = value);
        if (answer.Content.Headers.ContentLength is { } length)
        {
            response.ContentLength = length;
        }
        if (isEventStream)
        {
            // Proxies in front of the gateway must not hold events back either.
            http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            headers["x-accel-buffering"] = "no";
        }

        Stream source;
        try
        {
            source = await answer.Content.ReadAsStreamAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            context.ClientAborted = true;
            return;
        }
        context.MarkHeadersSent();
        try
        {
            await using (source)
            {
                if (isEventStream)
                {
                    await RelayEventsAsync(source, response.Body, ct);
                }
                else
                {
                    var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
                    try
                    {
                        int n;
                        while ((n = await source.ReadAsync(buffer, ct)) > 0)
                        {
                            await response.Body.WriteAsync(buffer.AsMemory(0, n), ct);
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Client went away; disposing the answer closes the upstream connection, cancelling the provider's work.
            context.ClientAborted = true;
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            if (ct.IsCancellationRequested)
            {
                context.ClientAborted = true;
                return;
            }
            // The upstream broke mid-body. Aborting tells the client the response is incomplete instead of ending it cleanly.
            context.UpstreamBroke = true;
            logger.LogWarning("Upstream {Provider} broke off the response for {Path} after it started: {Reason}", context.Provider, context.Request?.Path, ex.Message);
            http.Abort();
        }
    }

    /// <summary>
    /// Relays an event stream. Between events it waits with a zero-byte read and holds no buffer; one is rented only
    /// while bytes are there to copy. A stream spends nearly all its life waiting, so thousands of open streams cost
    /// their connections, not 16 KB of buffer each.
    /// </summary>
    private static async Task RelayEventsAsync(Stream source, Stream destination, CancellationToken ct)
    {
        while (true)
        {
            _ = await source.ReadAsync(Memory<byte>.Empty, ct);
            var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
            try
            {
                var n = await source.ReadAsync(buffer, ct);
                if (n == 0)
                {
                    return;
                }
                // Each write is flushed by Kestrel, so an SSE event leaves as soon as it arrives.
                await destination.WriteAsync(buffer.AsMemory(0, n), ct);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
