using System.Buffers.Text;
using System.Text.Json;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Gateway.Endpoints;

namespace Switchyard.Gateway.Mcp.Hosting;

/// <summary>
/// Second step: authenticates the caller and leaves an <see cref="McpCaller"/> on the request. With <c>AUTH_MODE=none</c> everyone
/// is <see cref="McpCaller.Anonymous"/>; otherwise a gateway API key or a JWT is checked as on <c>/v1</c> (<c>x-portkey-api-key</c>
/// or <c>Authorization: Bearer</c>) and must carry the <c>mcp.invoke</c> scope. Refusals: 401 with
/// <c>WWW-Authenticate: Bearer resource_metadata="…", scope="mcp.invoke"</c>, 403 with <c>error="insufficient_scope"</c>, and 503
/// with <c>Retry-After</c> when the identity provider's keys cannot be fetched. A credential taken from <c>Authorization</c> is
/// removed from the request (as is <c>x-portkey-api-key</c>), so nothing downstream can forward it.
/// </summary>
public sealed class McpAuthentication
{
    private readonly ApiKeyGate? _gate;
    private readonly McpProtectedResource _resource;

    /// <summary>No authentication (<c>AUTH_MODE=none</c>): every caller is <see cref="McpCaller.Anonymous"/>.</summary>
    public McpAuthentication() : this(null, new McpProtectedResource(null, []))
    {
    }

    internal McpAuthentication(ApiKeyGate? gate, McpProtectedResource resource)
    {
        _gate = gate;
        _resource = resource;
    }

    /// <summary>Whether callers need a credential.</summary>
    public bool Required => _gate is not null;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (_gate is null)
        {
            McpCaller.Anonymous.AttachTo(context);
            await next(context);
            return;
        }
        var request = context.Request;
        // Read before the gate: it removes a JWT it takes from its header, and the caller's id needs the token's issuer.
        var presented = PresentedToken(request);
        var (key, refusal) = await _gate.AuthenticateAsync(request, context.RequestAborted);
        var path = request.Path.Value ?? "";
        if (refusal is not null)
        {
            if (refusal.Status == StatusCodes.Status503ServiceUnavailable)
            {
                context.Response.Headers.RetryAfter = (refusal.RetryAfterSeconds ?? 5).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await McpJsonRpcErrors.WriteAsync(context, refusal.Status, McpJsonRpcErrors.ServerError, refusal.Message);
                return;
            }
            context.Response.Headers.WWWAuthenticate = _resource.Challenge(request, path, insufficientScope: false);
            await McpJsonRpcErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, McpJsonRpcErrors.Unauthorized, "Unauthorized: " + refusal.Message);
            return;
        }
        if (!key!.Scopes.Contains(McpProtectedResource.Scope))
        {
            context.Response.Headers.WWWAuthenticate = _resource.Challenge(request, path, insufficientScope: true);
            var who = key.Hash.Length == 0 ? $"JWT for '{key.Name}'" : $"API key '{key.Name}'";
            await McpJsonRpcErrors.WriteAsync(context, StatusCodes.Status403Forbidden, McpJsonRpcErrors.Unauthorized,
                $"Forbidden: {who} does not have the {McpProtectedResource.Scope} scope");
            return;
        }
        CallerOf(key, presented).AttachTo(context);
        // The gateway credential stays here (the gate already removed one it took from Authorization or JWT_HEADER).
        request.Headers.Remove("x-portkey-api-key");
        await next(context);
    }

    /// <summary>The caller an authenticated key (or JWT identity) stands for.</summary>
    internal static McpCaller CallerOf(ApiKey key, string? token)
    {
        var jwt = key.Hash.Length == 0;
        var id = "key:" + key.Name;
        if (jwt)
        {
            var (issuer, subject) = IssuerAndSubject(token);
            id = $"jwt:{issuer ?? ""}|{subject ?? key.Name}";
        }
        return new McpCaller
        {
            Id = id,
            Name = key.Name,
            Team = key.Team,
            Scopes = key.Scopes,
            Key = key,
            AuthType = jwt ? "jwt" : "api_key",
        };
    }

    /// <summary>The token the gate will look at first: <c>x-portkey-api-key</c>, else a bearer token (or a <c>JWT_HEADER</c> value).</summary>
    private string? PresentedToken(HttpRequest request)
    {
        if (request.Headers.TryGetValue("x-portkey-api-key", out var portkey) && portkey.Count == 1)
        {
            return portkey.ToString().Trim();
        }
        var header = _gate!.Jwt?.Options.Header ?? "Authorization";
        if (request.Headers.TryGetValue(header, out var value) && value.Count == 1)
        {
            var text = value.ToString();
            return text.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? text[7..].Trim() : text.Trim();
        }
        return null;
    }

    /// <summary>The <c>iss</c> and <c>sub</c> of a token the gate has already verified (null when absent or not a JWT).</summary>
    private static (string? Issuer, string? Subject) IssuerAndSubject(string? token)
    {
        var parts = token?.Split('.');
        if (parts is not { Length: 3 })
        {
            return (null, null);
        }
        try
        {
            var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1])).RootElement;
            return (Text(payload, "iss"), Text(payload, "sub"));
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return (null, null);
        }

        static string? Text(JsonElement payload, string name) =>
            payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}
