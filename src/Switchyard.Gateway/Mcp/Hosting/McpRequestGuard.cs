namespace Switchyard.Gateway.Mcp.Hosting;

/// <summary>
/// First step of every MCP request: Host and Origin checks against DNS rebinding (<c>MCP_ALLOWED_HOSTS</c>/<c>MCP_ALLOWED_ORIGINS</c>, 403),
/// CORS preflight for browser clients, and the body-size cap (413). Stub until the hosting work lands: passes everything.
/// </summary>
public sealed class McpRequestGuard(McpOptions options)
{
    public McpOptions Options => options;

    public Task InvokeAsync(HttpContext context, RequestDelegate next) => next(context);
}
