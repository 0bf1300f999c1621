using Microsoft.Extensions.Logging;
using Switchyard.Core;
using Switchyard.Core.Configs;
using Switchyard.Core.Providers;
using Switchyard.Core.Routing;
using Switchyard.Core.Security;

namespace Switchyard.Gateway;

/// <summary>The engine's parts wired together once per process: registry, compiler, named configs, resolver, router.</summary>
public sealed class GatewayEngine : IDisposable
{
    public GatewayEngine(ServerOptions options, ILoggerFactory loggers, HttpMessageHandler? upstreamHandler = null)
    {
        Settings = options.Engine;
        Providers = ProviderRegistry.Default.WithBaseUrls(Settings.ProviderBaseUrls);
        var hosts = CustomHostValidator.FromEnvironment(Settings.TrustedCustomHosts);
        var compiler = new ConfigCompiler(Settings, Providers, hosts);
        NamedConfigs = new NamedConfigStore(Settings.ConfigDirectory, compiler, options.Environment,
            loggers.CreateLogger("Switchyard.Configs"), Settings.ConfigReloadDebounce);
        Resolver = new ConfigResolver(compiler, NamedConfigs, Providers, hosts);
        Upstream = new HttpMessageInvoker(upstreamHandler ?? CreateUpstreamHandler(Settings), disposeHandler: true);
        Router = new Router(Providers, Upstream, Settings, TimeProvider.System, loggers.CreateLogger("Switchyard.Routing"));
    }

    public GatewaySettings Settings { get; }

    public ProviderRegistry Providers { get; }

    public NamedConfigStore NamedConfigs { get; }

    public ConfigResolver Resolver { get; }

    public Router Router { get; }

    public HttpMessageInvoker Upstream { get; }

    /// <summary>One pooled HTTP stack for every upstream: no redirects, cookies or decompression (bytes pass through as sent).</summary>
    public static SocketsHttpHandler CreateUpstreamHandler(GatewaySettings settings) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        ConnectTimeout = settings.ConnectTimeout,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
        // Recycle connections so DNS changes (e.g. a provider's failover) are picked up.
        PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        MaxConnectionsPerServer = int.MaxValue,
        EnableMultipleHttp2Connections = true,
    };

    public void Dispose()
    {
        NamedConfigs.Dispose();
        Upstream.Dispose();
    }
}
