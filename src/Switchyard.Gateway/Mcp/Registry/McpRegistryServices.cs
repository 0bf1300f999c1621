namespace Switchyard.Gateway.Mcp.Registry;

/// <summary>The upstream side's services: the watched servers file(s) and the connector.</summary>
public static class McpRegistryServices
{
    /// <summary>Registers <see cref="IMcpRegistrySource"/> (from <see cref="McpOptions.ServersPath"/>) and <see cref="IMcpUpstreamConnector"/>. Stub: empty registry, no connector.</summary>
    public static IServiceCollection AddMcpRegistry(this IServiceCollection services, McpOptions options)
    {
        services.AddSingleton<IMcpRegistrySource>(new StaticMcpRegistrySource(McpRegistry.Empty));
        return services;
    }
}
