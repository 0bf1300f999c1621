using Microsoft.Extensions.Logging;
using Switchyard.Core;
using Switchyard.Core.Configs;
using Switchyard.Core.Logs;
using Switchyard.Core.Providers;
using Switchyard.Core.Providers.Azure;
using Switchyard.Core.Routing;
using Switchyard.Core.Security;

namespace Switchyard.Gateway;

/// <summary>The engine's parts wired together once per process: registry, compiler, named configs, resolver, router.</summary>
public sealed class GatewayEngine : IAsyncDisposable
{
    public GatewayEngine(ServerOptions options, ILoggerFactory loggers, HttpMessageHandler? upstreamHandler = null)
    {
        Settings = options.Engine;
        var trust = ExtraCaTrust.FromPemFile(Settings.UpstreamCaFile);
        Providers = ProviderRegistry.Default.WithBaseUrls(Settings.ProviderBaseUrls).WithEnvironment(options.Environment).WithSettings(Settings)
            .WithAdapter(new AzureOpenAiAdapter(options.Environment, trust));
        var hosts = CustomHostValidator.FromEnvironment(Settings.TrustedCustomHosts);
        var compiler = new ConfigCompiler(Settings, Providers, hosts);
        NamedConfigs = new NamedConfigStore(Settings.ConfigDirectory, compiler, options.Environment,
            loggers.CreateLogger("Switchyard.Configs"), Settings.ConfigReloadDebounce);
        Resolver = new ConfigResolver(compiler, NamedConfigs, Providers, hosts);
        Upstream = new HttpMessageInvoker(upstreamHandler ?? CreateUpstreamHandler(Settings), disposeHandler: true);
        Router = new Router(Providers, Upstream, Settings, TimeProvider.System, loggers.CreateLogger("Switchyard.Routing"));
        if (Settings.LogStore == "local")
        {
            RequestLog = new JsonLinesLogWriter(Settings.LogDirectory, Settings.LogQueueCapacity, loggers.CreateLogger("Switchyard.Logs"),
                Settings.LogFileLimitBytes, Settings.LogTotalLimitBytes);
        }
    }

    /// <summary>Where request records go; null when <c>LOG_STORE=none</c>.</summary>
    public JsonLinesLogWriter? RequestLog { get; }

    public GatewaySettings Settings { get; }

    public ProviderRegistry Providers { get; }

    public NamedConfigStore NamedConfigs { get; }

    public ConfigResolver Resolver { get; }

    public Router Router { get; }

    public HttpMessageInvoker Upstream { get; }

    /// <summary>One pooled HTTP stack for every upstream: no redirects, cookies or decompression (bytes pass through as sent).</summary>
    public static SocketsHttpHandler CreateUpstreamHandler(GatewaySettings settings)
    {
        var handler = CreateDefaultHandler(settings);
        ExtraCaTrust.FromPemFile(settings.UpstreamCaFile)?.ApplyTo(handler);
        return handler;
    }

    private static SocketsHttpHandler CreateDefaultHandler(GatewaySettings settings) => new()
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
        // An abandoned response closes its connection at once; draining it would keep a provider generating (and billing) for nothing.
        MaxResponseDrainSize = 0,
    };

    public async ValueTask DisposeAsync()
    {
        NamedConfigs.Dispose();
        Upstream.Dispose();
        if (RequestLog is not null)
        {
            // Every queued record reaches the disk before the process exits.
            await RequestLog.DisposeAsync();
        }
    }
}
