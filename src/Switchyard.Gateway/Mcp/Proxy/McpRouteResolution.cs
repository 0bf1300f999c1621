using System.Text.Json;

namespace Switchyard.Gateway.Mcp.Proxy;

/// <summary>
/// Third step: resolves the URL to an <see cref="McpRoute"/> from the current registry and leaves it on the request under
/// <see cref="ItemKey"/>. An unknown server gets 404 with the JSON-RPC error <see cref="UnknownServerCode"/>. A request whose
/// <c>Mcp-Session-Id</c> was issued on another route or to another caller gets 404 "Session not found" (code -32001, as the
/// SDK answers for an unknown session), so a session id never reveals that it exists elsewhere.
/// </summary>
public sealed class McpRouteResolution(IMcpRegistrySource registry, McpSessionBindings bindings)
{
    public const string ItemKey = "switchyard.mcp.route";

    /// <summary>The JSON-RPC error code of "Unknown MCP server" (the same "not found" code the SDK uses for an unknown session).</summary>
    public const int UnknownServerCode = -32001;

    /// <summary>The JSON-RPC error code of "Session not found".</summary>
    public const int SessionNotFoundCode = -32001;

    public IMcpRegistrySource Registry => registry;

    public static McpRoute? Of(HttpContext context) => context.Items.TryGetValue(ItemKey, out var value) ? value as McpRoute : null;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var segments = (context.Request.Path.Value ?? "").Trim('/').Split('/');
        string? workspace = null;
        string server;
        if (segments.Length == 3)
        {
            workspace = Uri.UnescapeDataString(segments[0]);
            server = Uri.UnescapeDataString(segments[1]);
        }
        else
        {
            server = Uri.UnescapeDataString(segments[0]);
        }
        var caller = McpCaller.Of(context);
        var route = registry.Current.Resolve(workspace, server, caller.Team);
        if (route is null)
        {
            var name = workspace is null ? server : workspace + "/" + server;
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, UnknownServerCode, $"Unknown MCP server '{name}'");
            return;
        }
        var sessionId = context.Request.Headers[McpSessionBindings.HeaderName].ToString();
        if (sessionId.Length > 0 && !bindings.Matches(sessionId, route.Path, caller.Id))
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, SessionNotFoundCode, "Session not found");
            return;
        }
        context.Items[ItemKey] = route;
        if (HttpMethods.IsPost(context.Request.Method))
        {
            // The proxy reads the initialize request (or the per-request _meta) again when the SDK asks it to configure the session.
            context.Request.EnableBuffering();
        }
        await next(context);
        if (sessionId.Length > 0 && HttpMethods.IsDelete(context.Request.Method) && context.Response.StatusCode is >= 200 and < 300
            && context.RequestServices.GetService<Sessions.IMcpSessionRecordStore>() is { } records)
        {
            // A deleted session must stay deleted: without this its migration record would bring it back on the next request.
            await records.RemoveAsync(sessionId, CancellationToken.None);
        }
    }

    internal static Task WriteErrorAsync(HttpContext context, int status, int code, string message) =>
        McpJsonRpcErrors.WriteAsync(context, status, code, message);
}
