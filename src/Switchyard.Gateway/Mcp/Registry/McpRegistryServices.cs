using Switchyard.Core.Security;
using Switchyard.Gateway.Hosting;

namespace Switchyard.Gateway.Mcp.Registry;

/// <summary>The upstream side's services: the watched servers file(s) and the connector.</summary>
public static class McpRegistryServices
{
    /// <summary>
    /// Registers <see cref="IMcpRegistrySource"/> (a <see cref="FileMcpRegistrySource"/> over <see cref="McpOptions.ServersPath"/>, loaded
    /// when first resolved) and <see cref="IMcpUpstreamConnector"/> (a <see cref="McpConnector"/>). <c>${NAME}</c> references, the clock
    /// and <c>TRUSTED_CUSTOM_HOSTS</c> come from the registered <see cref="ServerOptions"/> when there is one, else the process environment.
    /// </summary>
    public static IServiceCollection AddMcpRegistry(this IServiceCollection services, McpOptions options)
    {
        services.AddSingleton(sp =>
        {
            var server = sp.GetService<ServerOptions>();
            var environment = server?.Environment ?? Environment.GetEnvironmentVariable;
            var hosts = CustomHostValidator.FromEnvironment(server?.Engine.Upstream.TrustedCustomHosts ?? environment("TRUSTED_CUSTOM_HOSTS"));
            var source = new FileMcpRegistrySource(options.ServersPath, new McpServersFile.Context(environment, hosts),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("Switchyard.Mcp.Servers"), server?.Time ?? TimeProvider.System);
            source.Start();
            return source;
        });
        services.AddSingleton<IMcpRegistrySource>(sp => sp.GetRequiredService<FileMcpRegistrySource>());
        services.AddSingleton(sp =>
        {
            var server = sp.GetService<ServerOptions>();
            return new McpConnector(sp.GetRequiredService<ILoggerFactory>(), server?.Time ?? TimeProvider.System,
                extraCa: ExtraCaTrust.FromPemFile(server?.Engine.Upstream.CaFile));
        });
        services.AddSingleton<IMcpUpstreamConnector>(sp => sp.GetRequiredService<McpConnector>());
        return services;
    }
}
