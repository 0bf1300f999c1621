namespace Switchyard.Gateway.Mcp.Hosting;

/// <summary>
/// Second step: authenticates the caller (gateway API key with the <c>mcp.invoke</c> scope, or a JWT) and leaves an
/// <see cref="McpCaller"/> on the request; refuses with 401 + <c>WWW-Authenticate: Bearer resource_metadata=…</c> or 403
/// <c>insufficient_scope</c>. Stub until the hosting work lands: everyone is <see cref="McpCaller.Anonymous"/>.
/// </summary>
public sealed class McpAuthentication
{
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        McpCaller.Anonymous.AttachTo(context);
        return next(context);
    }
}
