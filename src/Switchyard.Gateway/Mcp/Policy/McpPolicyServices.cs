namespace Switchyard.Gateway.Mcp.Policy;

/// <summary>Policy and observability services: <see cref="IMcpPolicy"/>, <see cref="IMcpCallObserver"/>, the call gate.</summary>
public static class McpPolicyServices
{
    /// <summary>Stub: the servers' own allow/block lists, no observer.</summary>
    public static IServiceCollection AddMcpPolicy(this IServiceCollection services, McpOptions options)
    {
        services.AddSingleton<IMcpPolicy, ServerListsOnlyPolicy>();
        services.AddSingleton<McpCallGate>();
        return services;
    }
}
