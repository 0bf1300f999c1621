namespace Switchyard.Gateway.Mcp.Hosting;

/// <summary>The hosting side's services: the request guard and authentication, and the protected-resource metadata endpoints.</summary>
public static class McpHostingServices
{
    public static IServiceCollection AddMcpHosting(this IServiceCollection services, McpOptions options)
    {
        services.AddSingleton<McpRequestGuard>();
        services.AddSingleton<McpAuthentication>();
        return services;
    }

    /// <summary>Maps what the hosting side serves outside the MCP endpoints (protected-resource metadata). Stub: nothing.</summary>
    public static IEndpointRouteBuilder MapMcpHosting(this IEndpointRouteBuilder endpoints) => endpoints;
}
