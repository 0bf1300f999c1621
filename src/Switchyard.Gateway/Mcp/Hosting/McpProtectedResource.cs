using System.Text.Json;
using Switchyard.Core.Security.ApiKeys;

namespace Switchyard.Gateway.Mcp.Hosting;

/// <summary>
/// The MCP endpoints as OAuth protected resources (RFC 9728): their resource URLs, the metadata document served at
/// <c>/.well-known/oauth-protected-resource{path}</c>, and the <c>WWW-Authenticate</c> challenges that point to it.
/// </summary>
/// <param name="baseUrl">The public base URL (<c>MCP_GATEWAY_BASE_URL</c>); without it, the request's scheme and Host.</param>
/// <param name="authorizationServers">The authorization servers to advertise (the <c>JWT_ISSUER</c> values when <c>AUTH_MODE</c> includes jwt).</param>
public sealed class McpProtectedResource(Uri? baseUrl, IReadOnlyList<string> authorizationServers)
{
    /// <summary>The well-known path the metadata lives under (RFC 9728 §3).</summary>
    public const string WellKnownPath = "/.well-known/oauth-protected-resource";

    /// <summary>The scope a caller needs on the MCP endpoints.</summary>
    public const string Scope = ApiKeyScopes.McpInvoke;

    /// <summary>The <c>resource_name</c> in the metadata.</summary>
    public const string ResourceName = "Switchyard MCP gateway";

    public Uri? BaseUrl => baseUrl;

    public IReadOnlyList<string> AuthorizationServers => authorizationServers;

    /// <summary>Whether a path is a protected-resource metadata path (the root one or a path-inserted one).</summary>
    public static bool IsMetadataPath(PathString path) => path.StartsWithSegments(WellKnownPath, StringComparison.Ordinal);

    /// <summary>The scheme and authority resources are named under, without a trailing slash.</summary>
    public string Origin(HttpRequest request) => baseUrl is null ? $"{request.Scheme}://{request.Host.Value}" : baseUrl.GetLeftPart(UriPartial.Authority);

    /// <summary>The path of <c>MCP_GATEWAY_BASE_URL</c> (empty, or <c>/prefix</c> without a trailing slash).</summary>
    private string BasePath => baseUrl is null ? "" : baseUrl.AbsolutePath.TrimEnd('/');

    /// <summary>The resource identifier of an MCP endpoint path (<c>/everything/mcp</c>), or of the gateway for the empty path.</summary>
    public string ResourceUrl(HttpRequest request, string path) => Origin(request) + BasePath + path;

    /// <summary>Where the metadata of an MCP endpoint path is: the well-known path inserted between the origin and the path.</summary>
    public string MetadataUrl(HttpRequest request, string path) => Origin(request) + WellKnownPath + BasePath + path;

    /// <summary>The <c>WWW-Authenticate</c> value of a 401 (no or a bad credential) or of a 403 (<paramref name="insufficientScope"/>).</summary>
    public string Challenge(HttpRequest request, string path, bool insufficientScope) => insufficientScope
        ? $"Bearer error=\"insufficient_scope\", scope=\"{Scope}\", resource_metadata=\"{MetadataUrl(request, path)}\""
        : $"Bearer resource_metadata=\"{MetadataUrl(request, path)}\", scope=\"{Scope}\"";

    /// <summary>Writes the metadata document of <paramref name="path"/> (empty for the root document).</summary>
    public Task WriteMetadataAsync(HttpContext context, string path)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "max-age=300";
        // Public metadata: any web page may read it (browser-based MCP clients discover auth with it).
        response.Headers.AccessControlAllowOrigin = "*";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("resource", ResourceUrl(context.Request, path));
            json.WriteStartArray("authorization_servers");
            foreach (var server in authorizationServers)
            {
                json.WriteStringValue(server);
            }
            json.WriteEndArray();
            json.WriteStartArray("scopes_supported");
            json.WriteStringValue(Scope);
            json.WriteEndArray();
            json.WriteStartArray("bearer_methods_supported");
            json.WriteStringValue("header");
            json.WriteEndArray();
            json.WriteString("resource_name", ResourceName);
            json.WriteEndObject();
        }
        var body = buffer.ToArray();
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
