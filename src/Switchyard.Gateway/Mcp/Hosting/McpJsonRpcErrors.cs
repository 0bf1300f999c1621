using System.Text.Json;

namespace Switchyard.Gateway.Mcp.Hosting;

/// <summary>The JSON-RPC error bodies the hosting steps answer with (no request id: the body has not been read).</summary>
internal static class McpJsonRpcErrors
{
    /// <summary>JSON-RPC's server-error code the refusals use (the MCP SDKs use it for transport-level refusals).</summary>
    public const int ServerError = -32000;

    /// <summary>The code for an authentication or authorization refusal.</summary>
    public const int Unauthorized = -32001;

    public static Task WriteAsync(HttpContext context, int status, int code, string message)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        var body = Body(code, message);
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    public static byte[] Body(int code, string message)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("jsonrpc", "2.0");
            json.WriteNull("id");
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
