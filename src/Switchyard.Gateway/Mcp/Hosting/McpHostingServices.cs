using Microsoft.Extensions.DependencyInjection.Extensions;
using Switchyard.Core.Errors;
using Switchyard.Gateway.Endpoints;
using Switchyard.Gateway.Endpoints.Admin;
using Switchyard.Gateway.Hosting;

namespace Switchyard.Gateway.Mcp.Hosting;

/// <summary>The hosting side's services: the request guard and authentication, the MCP listener, and the protected-resource metadata endpoints.</summary>
public static class McpHostingServices
{
    /// <summary>The health routes, served on the MCP listener too.</summary>
    private static readonly string[] HealthPaths = ["/health", "/v1/health", "/health/ready", "/v1/health/ready"];

    /// <summary>
    /// Registers <see cref="McpRequestGuard"/>, <see cref="McpAuthentication"/>, <see cref="McpProtectedResource"/> and (unless the host
    /// registered its own) an unconfigured <see cref="McpListener"/>. The base URL, <c>AUTH_MODE</c> and <c>JWT_ISSUER</c> come from
    /// <see cref="ServerOptions"/> when it is registered; without it (a bare application) there is no authentication.
    /// </summary>
    public static IServiceCollection AddMcpHosting(this IServiceCollection services, McpOptions options)
    {
        services.TryAddSingleton<McpListener>();
        services.AddSingleton(sp =>
        {
            var server = sp.GetService<ServerOptions>();
            var issuers = server?.Auth.Jwt?.Issuers is { } set ? set.Order(StringComparer.Ordinal).ToArray() : [];
            return new McpProtectedResource(server?.McpGatewayBaseUrl, issuers);
        });
        services.AddSingleton(sp => new McpRequestGuard(options, sp.GetService<ServerOptions>()?.McpGatewayBaseUrl));
        services.AddSingleton(sp => new McpAuthentication(sp.GetService<ApiKeyGate>(), sp.GetRequiredService<McpProtectedResource>()));
        return services;
    }

    /// <summary>
    /// Maps the RFC 9728 protected-resource metadata: <c>GET /.well-known/oauth-protected-resource</c> (the gateway) and
    /// <c>GET /.well-known/oauth-protected-resource/{server}/mcp</c> (path-inserted, one per MCP endpoint path).
    /// </summary>
    public static IEndpointRouteBuilder MapMcpHosting(this IEndpointRouteBuilder endpoints)
    {
        var resource = endpoints.ServiceProvider.GetRequiredService<McpProtectedResource>();
        endpoints.MapGet(McpProtectedResource.WellKnownPath, context => resource.WriteMetadataAsync(context, ""));
        endpoints.MapGet(McpProtectedResource.WellKnownPath + "/{**path}", context =>
        {
            var path = "/" + (string?)context.Request.RouteValues["path"];
            return McpGateway.IsMcpPath(path)
                ? resource.WriteMetadataAsync(context, path)
                : McpJsonRpcErrors.WriteAsync(context, StatusCodes.Status404NotFound, McpJsonRpcErrors.ServerError,
                    "Not Found: protected-resource metadata exists for MCP endpoint paths only (/{server}/mcp, /{workspace}/{server}/mcp)");
        });
        return endpoints;
    }

    /// <summary>
    /// With a separate MCP listener: on it, only the MCP endpoints, the protected-resource metadata and health (in
    /// <c>SERVER_MODE=mcp</c> also <c>/metrics</c> and the admin API when they have no port of their own); elsewhere, no MCP
    /// endpoint and no metadata. Everything refused answers 404 like an unknown route. Without one (MCP on the main port), nothing.
    /// </summary>
    public static void UseMcpPortIsolation(this WebApplication app, ServerMode mode)
    {
        var listener = app.Services.GetRequiredService<McpListener>();
        if (!listener.IsConfigured)
        {
            return;
        }
        app.Use((context, next) =>
        {
            var path = context.Request.Path;
            var mcp = McpGateway.IsMcpPath(path) || McpProtectedResource.IsMetadataPath(path);
            bool allowed;
            if (listener.Owns(context))
            {
                allowed = mcp || HealthPaths.Any(h => path.Equals(h, StringComparison.Ordinal))
                    || mode == ServerMode.Mcp && (path.Equals("/metrics", StringComparison.Ordinal) || path.StartsWithSegments(AdminApi.Prefix, StringComparison.OrdinalIgnoreCase));
            }
            else
            {
                allowed = !mcp;
            }
            return allowed ? next(context) : GatewayApp.WriteErrorAsync(context, new GatewayError(ErrorCategory.NotFound, "Not Found"));
        });
    }
}
