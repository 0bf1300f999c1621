using Microsoft.AspNetCore.Http;

namespace Switchyard.Simulators;

/// <summary>Per-request flow: read and record, apply a scripted fault, authenticate, route, write, and note how it ended.</summary>
internal sealed class RequestPipeline(SimulatorOptions options, RequestLog log, FaultQueue faults, ReplyWriter writer, CancellationToken stopping)
{
    private static readonly byte[] s_truncatedJson =
        """{"id":"chatcmpl-sim","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"trunc"""u8.ToArray();

    public async Task HandleAsync(HttpContext context)
    {
        var receivedAt = DateTimeOffset.UtcNow;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var ct = linked.Token;
        RecordedRequest? recorded = null;
        var completed = false;
        try
        {
            var body = await ReadBodyAsync(context.Request, ct).ConfigureAwait(false);
            if (options.RecordRequests)
            {
                recorded = log.Add(context.Request, body, receivedAt);
            }

            var path = context.Request.PathBase.Add(context.Request.Path).Value ?? "/";
            var fault = faults.TakeFor(path);
            if (recorded is not null)
            {
                recorded.Fault = fault;
            }

            switch (fault?.Kind)
            {
                case FaultKind.Hang:
                    await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
                    break;
                case FaultKind.Delay:
                    await Task.Delay(fault.Delay, ct).ConfigureAwait(false);
                    break;
            }

            var reply = fault?.Kind switch
            {
                FaultKind.Error => OpenAiErrors.ForFault(fault),
                FaultKind.MalformedJson => SimReply.Json(s_truncatedJson),
                FaultKind.Body => SimReply.Bytes(fault.StatusCode, fault.ContentType, System.Text.Encoding.UTF8.GetBytes(fault.Body ?? "")),
                _ => await AnswerAsync(context, path, body, ct).ConfigureAwait(false),
            };
            completed = await writer.WriteAsync(context, reply, fault, recorded, ct).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            // Kestrel rejected the body (too large, broken chunking): answer as the API would, not as a crash.
            completed = await WriteErrorAsync(context, OpenAiErrors.Reply(ex.StatusCode, ex.Message, "invalid_request_error"), recorded).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The client left, a cut fault was interrupted, or the simulator is stopping. Aborting makes
            // sure Kestrel does not finish the response on our behalf (an empty 200 would look like success).
            context.Abort();
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            // A simulator bug should show up as a 500 in the test, never as an unobserved exception.
            completed = await WriteErrorAsync(context, OpenAiErrors.Reply(500, "simulator failure: " + ex.Message, "server_error"), recorded).ConfigureAwait(false);
        }
        catch (Exception)
        {
            context.Abort();
        }
        finally
        {
            recorded?.Finish(aborted: !completed);
        }
    }

    private async Task<SimReply> AnswerAsync(HttpContext context, string path, byte[] body, CancellationToken ct)
    {
        if (Authenticate(context.Request) is { } unauthorized)
        {
            return unauthorized;
        }

        var handler = EndpointRouter.Resolve(context.Request.Method, path);
        if (handler is null)
        {
            return OpenAiErrors.NotFound(context.Request.Method, path);
        }

        using var request = new SimRequest(context.Request.Method, path, body, options);
        if (EndpointRouter.IsMultipart(path) && context.Request.HasFormContentType)
        {
            // The body was already drained for recording; the form parser reads it again from memory.
            context.Request.Body = new MemoryStream(body, writable: false);
            try
            {
                request.Form = await context.Request.ReadFormAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException && !ct.IsCancellationRequested)
            {
                return OpenAiErrors.InvalidRequest("Could not parse multipart form: " + ex.Message);
            }
        }

        return handler(request);
    }

    private static async Task<bool> WriteErrorAsync(HttpContext context, SimReply reply, RecordedRequest? recorded)
    {
        try
        {
            context.Response.Clear();
            context.Response.StatusCode = reply.Status;
            context.Response.ContentType = reply.ContentType;
            recorded?.SetStatus(reply.Status);
            await context.Response.Body.WriteAsync(reply.Body!, context.RequestAborted).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            return false;
        }
    }

    private SimReply? Authenticate(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        var key = header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header[Scheme.Length..].Trim() : "";
        if (key.Length == 0)
        {
            return OpenAiErrors.Reply(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
                code: "invalid_api_key");
        }

        if (options.RequiredApiKey is { } required && !string.Equals(key, required, StringComparison.Ordinal))
        {
            return OpenAiErrors.Reply(401, $"Incorrect API key provided: {Mask(key)}.", "invalid_request_error", code: "invalid_api_key");
        }

        return null;
    }

    private static string Mask(string key) => key.Length <= 8 ? "****" : key[..3] + new string('*', Math.Min(key.Length - 7, 20)) + key[^4..];

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength == 0)
        {
            return [];
        }

        using var buffer = new MemoryStream(request.ContentLength is { } length and < int.MaxValue ? (int)length : 1024);
        await request.Body.CopyToAsync(buffer, ct).ConfigureAwait(false);
        return buffer.ToArray();
    }
}
