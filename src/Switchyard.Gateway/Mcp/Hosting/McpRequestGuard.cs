using Microsoft.AspNetCore.Http.Features;

namespace Switchyard.Gateway.Mcp.Hosting;

/// <summary>
/// First step of every MCP request: Host and Origin checks against DNS rebinding (<c>MCP_ALLOWED_HOSTS</c>/<c>MCP_ALLOWED_ORIGINS</c>,
/// 403 with a JSON-RPC error), CORS (preflight answered here with 204, CORS headers on the answers to allowed origins), and the
/// body-size cap (<c>MCP_MAX_BODY_BYTES</c>, 413).
/// </summary>
/// <param name="options">The MCP settings.</param>
/// <param name="baseUrl">The public base URL (<c>MCP_GATEWAY_BASE_URL</c>): its host is allowed by default.</param>
public sealed class McpRequestGuard(McpOptions options, Uri? baseUrl = null)
{
    /// <summary>Methods a browser may use on an MCP endpoint.</summary>
    public const string AllowedMethods = "GET, POST, DELETE, OPTIONS";

    /// <summary>Request headers a browser may send (plus any <c>Mcp-Param-*</c> it asks for).</summary>
    public const string AllowedHeaders = "Authorization, Content-Type, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID, x-portkey-api-key";

    /// <summary>Response headers a browser script may read.</summary>
    public const string ExposedHeaders = "Mcp-Session-Id, WWW-Authenticate";

    private static readonly string[] LoopbackHosts = ["localhost", "127.0.0.1", "[::1]"];

    private readonly bool _anyHost = options.AllowedHosts.Contains("*");
    private readonly bool _anyOrigin = options.AllowedOrigins.Contains("*");
    private readonly string[] _hosts = options.AllowedHosts.Count > 0
        ? [.. options.AllowedHosts.Select(h => h.Trim().ToLowerInvariant())]
        : baseUrl is null ? LoopbackHosts : [.. LoopbackHosts, baseUrl.Host.ToLowerInvariant()];
    private readonly string[] _origins = [.. options.AllowedOrigins.Select(o => o.Trim().TrimEnd('/').ToLowerInvariant())];

    public McpOptions Options => options;

    /// <summary>Whether a Host header value (<c>host</c> or <c>host:port</c>) is allowed.</summary>
    public bool IsAllowedHost(string? host)
    {
        if (_anyHost)
        {
            return true;
        }
        if (string.IsNullOrWhiteSpace(host))
        {
            return false;
        }
        var value = host.Trim().ToLowerInvariant();
        var name = HostName(value);
        foreach (var allowed in _hosts)
        {
            // An entry with a port must match exactly; one without matches the host on any port.
            if (allowed == value || HostName(allowed) == allowed && allowed == name)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether an Origin header value is allowed: listed in <c>MCP_ALLOWED_ORIGINS</c>, or its host is an allowed host.</summary>
    public bool IsAllowedOrigin(string origin)
    {
        if (_anyOrigin)
        {
            return true;
        }
        var value = origin.Trim().TrimEnd('/').ToLowerInvariant();
        if (_origins.Contains(value))
        {
            return true;
        }
        return Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && url.Authority.Length > 0
            && IsAllowedHost(url.IsDefaultPort ? url.Host : url.Authority);
    }

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        var host = request.Headers.Host.ToString();
        if (!IsAllowedHost(host))
        {
            return McpJsonRpcErrors.WriteAsync(context, StatusCodes.Status403Forbidden, McpJsonRpcErrors.ServerError,
                $"Forbidden: Host '{McpJsonRpcErrors.Printable(host)}' is not allowed (MCP_ALLOWED_HOSTS)");
        }
        var origin = request.Headers.Origin;
        if (origin.Count > 1 || origin.Count == 1 && !IsAllowedOrigin(origin.ToString()))
        {
            return McpJsonRpcErrors.WriteAsync(context, StatusCodes.Status403Forbidden, McpJsonRpcErrors.ServerError,
                $"Forbidden: Origin '{McpJsonRpcErrors.Printable(origin.ToString())}' is not allowed (MCP_ALLOWED_ORIGINS)");
        }
        var response = context.Response;
        if (origin.Count == 1)
        {
            response.Headers.AccessControlAllowOrigin = origin.ToString();
            response.Headers.AccessControlExposeHeaders = ExposedHeaders;
            response.Headers.Append("Vary", "Origin");
            if (HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey("Access-Control-Request-Method"))
            {
                response.StatusCode = StatusCodes.Status204NoContent;
                response.Headers.AccessControlAllowMethods = AllowedMethods;
                response.Headers.AccessControlAllowHeaders = PreflightHeaders(request.Headers.AccessControlRequestHeaders.ToString());
                response.Headers.AccessControlMaxAge = "600";
                return Task.CompletedTask;
            }
        }
        if (request.ContentLength is { } length && length > options.MaxBodyBytes)
        {
            return McpJsonRpcErrors.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, McpJsonRpcErrors.ServerError,
                $"Payload too large: the body is {length} bytes, the limit is {options.MaxBodyBytes} (MCP_MAX_BODY_BYTES)");
        }
        // A body without Content-Length (chunked) is cut off by Kestrel at the same limit while it is read.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.MaxBodyBytes;
        }
        return next(context);
    }

    /// <summary>The allowed request headers, plus each <c>Mcp-Param-*</c> header the preflight asks for.</summary>
    private static string PreflightHeaders(string requested)
    {
        var extra = requested.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(h => h.StartsWith("Mcp-Param-", StringComparison.OrdinalIgnoreCase) && h.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            .Distinct(StringComparer.OrdinalIgnoreCase);
        return string.Join(", ", [AllowedHeaders, .. extra]);
    }

    /// <summary>The host of <c>host</c>, <c>host:port</c>, <c>[v6]</c> or <c>[v6]:port</c>.</summary>
    private static string HostName(string value)
    {
        if (value.StartsWith('['))
        {
            var end = value.IndexOf(']');
            return end < 0 ? value : value[..(end + 1)];
        }
        var colon = value.LastIndexOf(':');
        return colon < 0 || value.IndexOf(':') != colon ? value : value[..colon];
    }
}
