namespace Switchyard.Gateway.Mcp.Observability;

/// <summary>Registers the <see cref="IMcpCallObserver"/>s: the request log, <c>/metrics</c> and traces. Stub: registers nothing.</summary>
public static class McpObservabilityServices
{
    public static IServiceCollection AddMcpObservability(this IServiceCollection services, McpOptions options) => services;
}
