namespace Switchyard.Gateway.Mcp;

/// <summary>
/// Composition of the MCP gateway: the services it needs and the endpoints it maps. <c>GatewayApp</c> calls both when
/// <c>SERVER_MODE</c> is <c>mcp</c> or <c>all</c>; tests call them on a bare web application.
/// </summary>
public static class McpGateway
{
    /// <summary>Registers the registry, connector, policy, observer and the SDK's HTTP transport.</summary>
    public static IServiceCollection AddMcpGateway(this IServiceCollection services, McpOptions options)
    {
        services.AddSingleton(options);
        return services;
    }

    /// <summary>
    /// Maps <c>/{server}/mcp</c>, <c>/{workspace}/{server}/mcp</c> and <c>/v/{name}/mcp</c>. The auth step (which leaves an
    /// <see cref="McpCaller"/> on the request) and the Host/Origin checks run before these as middleware.
    /// </summary>
    public static IEndpointRouteBuilder MapMcpGateway(this IEndpointRouteBuilder endpoints) => endpoints;
}
