using System.Globalization;
using System.Text.Json;
using Switchyard.Gateway.Mcp.Proxy;

namespace Switchyard.Gateway.Mcp.Policy;

/// <summary>
/// Fourth step: for a <c>tools/call</c>, reads the tool name from the JSON-RPC body (the body stays readable) and admits the
/// call with <see cref="IMcpPolicy.AdmitCallAsync"/>: a refusal is answered here (a JSON-RPC error carrying the request id, with
/// the admission's HTTP status: 200 for a tool that is not allowed, 429 with Retry-After for a rate limit) and reported to every
/// <see cref="IMcpCallObserver"/>. Everything else (GET, DELETE, other methods, batches, bodies that are not JSON, names no
/// member of a virtual server has) goes on unchanged, for the proxy and the SDK to answer.
/// </summary>
public sealed class McpCallGate(IMcpPolicy policy, McpOptions options, IEnumerable<IMcpCallObserver> observers, TimeProvider? time = null)
{
    private readonly IMcpCallObserver[] _observers = [.. observers];
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method) || McpRouteResolution.Of(context) is not { } route)
        {
            await next(context);
            return;
        }
        if (request.ContentLength > options.MaxBodyBytes)
        {
            await WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, default, -32600,
                $"The request body is larger than MCP_MAX_BODY_BYTES ({options.MaxBodyBytes.ToString(CultureInfo.InvariantCulture)} bytes)", null);
            return;
        }
        // The read below stops at MCP_MAX_BODY_BYTES itself (a chunked body has no Content-Length to check first).
        request.EnableBuffering(bufferThreshold: 64 * 1024);
        byte[] body;
        try
        {
            body = await ReadAllAsync(request.Body, options.MaxBodyBytes, context.RequestAborted);
        }
        catch (BodyTooLargeException)
        {
            await WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, default, -32600,
                $"The request body is larger than MCP_MAX_BODY_BYTES ({options.MaxBodyBytes.ToString(CultureInfo.InvariantCulture)} bytes)", null);
            return;
        }
        request.Body.Position = 0;
        // Fast path: only a body that can name tools/call is parsed (a backslash could spell it with escapes).
        if (!CouldBeToolsCall(body) || !TryReadCall(body, out var id, out var exposed, out var argumentBytes)
            || !route.TryResolveName(exposed, out var server, out var tool))
        {
            await next(context);
            return;
        }
        var caller = McpCaller.Of(context);
        var started = _time.GetUtcNow();
        var admission = await policy.AdmitCallAsync(caller, route, server, tool, context.RequestAborted);
        if (!admission.Allowed)
        {
            await WriteErrorAsync(context, admission.HttpStatus == 0 ? StatusCodes.Status200OK : admission.HttpStatus, id, admission.ErrorCode,
                admission.Message ?? $"Tool '{tool}' is not allowed", admission.RetryAfter);
            Notify(new McpCallRecord
            {
                StartedAt = started,
                Duration = _time.GetUtcNow() - started,
                Caller = caller,
                Route = route.Path,
                Server = server.Id,
                Method = "tools/call",
                Target = tool,
                Outcome = admission.HttpStatus == StatusCodes.Status429TooManyRequests ? "rate_limited" : "denied",
                Error = admission.ErrorCode.ToString(CultureInfo.InvariantCulture),
                ArgumentBytes = argumentBytes,
                SessionId = NonEmpty(request.Headers["Mcp-Session-Id"]),
                ProtocolVersion = NonEmpty(request.Headers["MCP-Protocol-Version"]),
                RequestId = id.ValueKind == JsonValueKind.String ? id.GetString() : id.ValueKind == JsonValueKind.Undefined ? null : id.GetRawText(),
            });
            return;
        }
        try
        {
            await next(context);
        }
        finally
        {
            admission.Lease?.Dispose();
        }
    }

    private static readonly byte[] ToolsCall = "tools/call"u8.ToArray();

    private static bool CouldBeToolsCall(ReadOnlySpan<byte> body) => body.IndexOf(ToolsCall) >= 0 || body.IndexOf((byte)'\\') >= 0;

    /// <summary>A single JSON-RPC request (not a batch) for <c>tools/call</c> with an id and a string <c>params.name</c>.</summary>
    private static bool TryReadCall(byte[] body, out JsonElement id, out string name, out long argumentBytes)
    {
        id = default;
        name = "";
        argumentBytes = 0;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String || method.GetString() != "tools/call"
                || !root.TryGetProperty("id", out var idElement) || idElement.ValueKind is not (JsonValueKind.String or JsonValueKind.Number)
                || !root.TryGetProperty("params", out var parameters) || parameters.ValueKind != JsonValueKind.Object
                || !parameters.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
            {
                return false;
            }
            id = idElement.Clone();
            name = nameElement.GetString()!;
            argumentBytes = parameters.TryGetProperty("arguments", out var arguments) ? arguments.GetRawText().Length : 0;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static Task WriteErrorAsync(HttpContext context, int status, JsonElement id, int code, string message, TimeSpan? retryAfter) =>
        McpJsonRpcErrors.WriteAsync(context, status, id, code, message, retryAfter);

    private void Notify(McpCallRecord record)
    {
        foreach (var observer in _observers)
        {
            try
            {
                observer.OnCompleted(record);
            }
            catch (Exception)
            {
                // Observers must not throw; one that does must not turn a refusal into a failed request.
            }
        }
    }

    private static string? NonEmpty(Microsoft.Extensions.Primitives.StringValues value) => value.Count == 0 || string.IsNullOrEmpty(value[0]) ? null : value[0];

    private sealed class BodyTooLargeException : Exception;

    private static async Task<byte[]> ReadAllAsync(Stream body, int limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new BodyTooLargeException();
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
