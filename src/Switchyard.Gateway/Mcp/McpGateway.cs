using Switchyard.Gateway.Mcp.Hosting;
using Switchyard.Gateway.Mcp.Policy;
using Switchyard.Gateway.Mcp.Proxy;
using Switchyard.Gateway.Mcp.Observability;
using Switchyard.Gateway.Mcp.Registry;
using Switchyard.Gateway.Mcp.Sessions;

namespace Switchyard.Gateway.Mcp;

/// <summary>
/// Composition of the MCP gateway: the services it needs, the middleware every MCP request runs through, and the endpoints.
/// <c>GatewayApp</c> calls all three when <c>SERVER_MODE</c> is <c>mcp</c> or <c>all</c>; tests call them on a bare web application.
/// </summary>
public static class McpGateway
{
    /// <summary>Whether a path is an MCP endpoint: <c>/{server}/mcp</c>, <c>/{workspace}/{server}/mcp</c> (which covers <c>/v/{name}/mcp</c>).</summary>
    public static bool IsMcpPath(PathString path)
    {
        var value = path.Value;
        if (value is null || !value.EndsWith("/mcp", StringComparison.Ordinal) || value.StartsWith("/.well-known/", StringComparison.Ordinal))
        {
            return false;
        }
        var segments = 0;
        foreach (var c in value)
        {
            if (c == '/')
            {
                segments++;
            }
        }
        return segments is 2 or 3;
    }

    /// <summary>Registers the registry, connector, policy, observer and the SDK's HTTP transport.</summary>
    public static IServiceCollection AddMcpGateway(this IServiceCollection services, McpOptions options)
    {
        services.AddSingleton(options);
        services.AddMcpHosting(options);
        services.AddMcpRegistry(options);
        services.AddMcpPolicy(options);
        services.AddMcpSessions(options);
        services.AddMcpObservability(options);
        services.AddSingleton<McpRouteResolution>();
        services.AddMcpProxy(options);
        return services;
    }

    /// <summary>The per-request steps, in order, for MCP endpoint paths only: guard, auth, route, call gate.</summary>
    public static IApplicationBuilder UseMcpGateway(this IApplicationBuilder app)
    {
        var guard = app.ApplicationServices.GetRequiredService<McpRequestGuard>();
        var auth = app.ApplicationServices.GetRequiredService<McpAuthentication>();
        var route = app.ApplicationServices.GetRequiredService<McpRouteResolution>();
        var gate = app.ApplicationServices.GetRequiredService<McpCallGate>();
        return app.UseWhen(context => IsMcpPath(context.Request.Path), branch =>
        {
            branch.Use((context, next) => guard.InvokeAsync(context, next));
            branch.Use((context, next) => auth.InvokeAsync(context, next));
            branch.Use((context, next) => route.InvokeAsync(context, next));
            branch.Use((context, next) => gate.InvokeAsync(context, next));
        });
    }

    /// <summary>Maps <c>/{server}/mcp</c> and <c>/{workspace}/{server}/mcp</c> (POST, GET, DELETE).</summary>
    public static IEndpointRouteBuilder MapMcpGateway(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMcpHosting();
        endpoints.MapMcpProxy();
        return endpoints;
    }
}
