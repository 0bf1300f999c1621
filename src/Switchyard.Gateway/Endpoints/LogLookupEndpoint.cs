using Switchyard.Core.Errors;
using Switchyard.Core.Pipeline;

namespace Switchyard.Gateway.Endpoints;

/// <summary>
/// <c>GET /v1/logs/{id}</c>: a request's log record from the configured store, so operators need no bucket credentials.
/// Off unless <c>LOG_LOOKUP_ENABLED=true</c>: until gateway keys exist, anyone who reaches the gateway could read bodies.
/// </summary>
internal sealed class LogLookupEndpoint(SwitchyardEngine engine, ApiKeyGate? gate = null)
{
    public async Task HandleAsync(HttpContext context, string id)
    {
        if (gate is not null)
        {
            var auth = await gate.AuthenticateAsync(context.Request, context.RequestAborted);
            var refusal = auth.Refusal ?? ApiKeyGate.Authorize(auth.Key!, Core.Security.ApiKeys.ApiKeyScopes.LogsRead, context.Request.Headers, null, engine);
            if (refusal is not null)
            {
                await ApiKeyGate.WriteAsync(context, refusal);
                return;
            }
        }
        if (!engine.Settings.Logs.LookupEnabled)
        {
            await WriteErrorAsync(context, 403, "Request-log lookup is disabled: set LOG_LOOKUP_ENABLED=true to serve GET /v1/logs/{id} (anyone who can reach the gateway can then read records).");
            return;
        }
        if (engine.LogLookup is not { } lookup)
        {
            await WriteErrorAsync(context, 404, "No request log is kept (LOG_STORE=none).");
            return;
        }
        if (id.Length is 0 or > 128 || id.AsSpan().IndexOfAnyExceptInRange('\u0021', '\u007e') >= 0 || id.Contains('"') || id.Contains('\\'))
        {
            await WriteErrorAsync(context, 400, "The id must be a log id or trace id: 1 to 128 printable ASCII characters without quotes or backslashes.");
            return;
        }
        byte[]? record;
        try
        {
            record = await lookup.FindAsync(id, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            context.RequestServices.GetRequiredService<ILogger<LogLookupEndpoint>>().LogWarning(ex, "Request-log lookup of {Id} failed", id);
            await WriteErrorAsync(context, 502, $"The log store could not be read: {ex.Message}");
            return;
        }
        if (record is null)
        {
            await WriteErrorAsync(context, 404, $"No log record with id {id}.");
            return;
        }
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentLength = record.Length;
        await context.Response.Body.WriteAsync(record, context.RequestAborted);
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        // The gateway's own error shape; the status is set above (403 has no category of its own).
        var body = ErrorResponses.Body(new GatewayError(status switch
        {
            404 => ErrorCategory.NotFound,
            502 => ErrorCategory.BadUpstreamResponse,
            _ => ErrorCategory.InvalidRequest,
        }, message), Core.Requests.EndpointKind.Proxy);
        return context.Response.Body.WriteAsync(body).AsTask();
    }
}
