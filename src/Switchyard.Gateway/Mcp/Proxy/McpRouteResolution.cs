namespace Switchyard.Gateway.Mcp.Proxy;

/// <summary>
/// Third step: resolves the URL to an <see cref="McpRoute"/> from the current registry (404 JSON-RPC error when no server
/// matches) and leaves it on the request under <see cref="ItemKey"/>. Stub until the proxy lands.
/// </summary>
public sealed class McpRouteResolution(IMcpRegistrySource registry)
{
    public const string ItemKey = "switchyard.mcp.route";

    public IMcpRegistrySource Registry => registry;

    public static McpRoute? Of(HttpContext context) => context.Items.TryGetValue(ItemKey, out var value) ? value as McpRoute : null;

    public Task InvokeAsync(HttpContext context, RequestDelegate next) => next(context);
}
