using System.Text.Json;

using System.Globalization;

namespace Switchyard.Gateway.Mcp;

/// <summary>The JSON-RPC error bodies the gateway's own steps answer with (guard, auth, route, call gate), before the SDK sees the request.</summary>
internal static class McpJsonRpcErrors
{
    /// <summary>JSON-RPC's server-error code the refusals use (the MCP SDKs use it for transport-level refusals).</summary>
    public const int ServerError = -32000;

    /// <summary>The code for an authentication or authorization refusal.</summary>
    public const int Unauthorized = -32001;

    /// <summary>An error with a null id (the body has not been read, or had no id).</summary>
    public static Task WriteAsync(HttpContext context, int status, int code, string message) => WriteAsync(context, status, default, code, message);

    /// <summary>An error answering the request whose id is <paramref name="id"/> (undefined writes null), with <c>Retry-After</c> when given.</summary>
    public static Task WriteAsync(HttpContext context, int status, JsonElement id, int code, string message, TimeSpan? retryAfter = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        if (retryAfter is { } retry)
        {
            response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
        var body = Body(id, code, message);
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    public static byte[] Body(int code, string message) => Body(default, code, message);

    public static byte[] Body(JsonElement id, int code, string message)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("jsonrpc", "2.0");
            json.WritePropertyName("id");
            if (id.ValueKind == JsonValueKind.Undefined)
            {
                json.WriteNullValue();
            }
            else
            {
                id.WriteTo(json);
            }
            json.WriteStartObject("error");
            json.WriteNumber("code", code);
            json.WriteString("message", message);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>A header value fit for an error message: at most 100 characters, control characters replaced.</summary>
    public static string Printable(string value)
    {
        var s = value.Length > 100 ? value[..100] + "…" : value;
        return string.Create(s.Length, s, (span, src) =>
        {
            for (var i = 0; i < src.Length; i++)
            {
                span[i] = char.IsControl(src[i]) ? '?' : src[i];
            }
        });
    }
}
