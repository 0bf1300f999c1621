using Microsoft.Extensions.Logging;
using Switchyard.Core;
using Switchyard.Core.Caching;
using Switchyard.Core.Caching.Semantic;
using Switchyard.Core.Configs;
using Switchyard.Core.Logs;
using Switchyard.Core.Providers;
using Switchyard.Core.Providers.Azure;
using Switchyard.Core.Providers.Google;
using Switchyard.Redis;
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
        _logger = loggers.CreateLogger("Switchyard.Cache");
        Cache = CreateCache(Settings, options.Time, _logger);
        Router = new Router(Providers, Upstream, Settings, TimeProvider.System, loggers.CreateLogger("Switchyard.Routing"), cache: Cache);
        if (Cache?.Semantic?.Embedder is TargetEmbedder embedder)
        {
            embedder.Attach(Router);
        }
        if (Settings.LogStore == "local")
        {
            RequestLog = new JsonLinesLogWriter(Settings.LogDirectory, Settings.LogQueueCapacity, loggers.CreateLogger("Switchyard.Logs"),
                Settings.LogFileLimitBytes, Settings.LogTotalLimitBytes);
        }
    }

    private readonly ILogger _logger;

    /// <summary>Where request records go; null when <c>LOG_STORE=none</c>.</summary>
    public JsonLinesLogWriter? RequestLog { get; }

    public GatewaySettings Settings { get; }

    /// <summary>The response cache; null when <c>CACHE_STORE=none</c>.</summary>
    public ResponseCache? Cache { get; }

    public ProviderRegistry Providers { get; }

    public NamedConfigStore NamedConfigs { get; }

    public ConfigResolver Resolver { get; }

    public Router Router { get; }

    public HttpMessageInvoker Upstream { get; }

    private static ResponseCache? CreateCache(GatewaySettings settings, TimeProvider time, ILogger logger)
    {
        var options = settings.Cache;
        ICacheStore store;
        switch (options.Store)
        {
            case "none":
                return null;
            case "redis":
                var client = new RedisClient(RedisOptions(settings));
                store = new RedisCacheStore(client);
                // Connect now, so the first requests do not pay for connection set-up and an unreachable server is reported at start.
                _ = WarmUpAsync(client, settings.Cache, logger);
                break;
            default:
                store = new MemoryCacheStore(options.MemoryMaxBytes, time);
                break;
        }
        var safe = new FailSafeCacheStore(store, options.Timeout, logger: logger);
        IEmbedder embedder = options.EmbeddingProvider is null
            ? new HashedNgramEmbedder()
            : new TargetEmbedder(options);
        var semantic = new SemanticMatcher(embedder, options.SimilarityThreshold, options.EmbeddingTimeout, time: time);
        return new ResponseCache(safe, time, logger, options.KeyPrefix, options.MaxEntryBytes, semantic);
    }

    private static async Task WarmUpAsync(RedisClient client, CacheOptions options, ILogger logger)
    {
        try
        {
            await client.PingAsync().ConfigureAwait(false);
            logger.LogInformation("Cache store {Store} connected ({Mode})", options.StoreName, options.RedisCluster ? "cluster" : "standalone");
        }
        catch (Exception ex)
        {
            logger.LogWarning("Cache store {Store} is not reachable yet ({Reason}); requests are served without the cache until it is", options.StoreName, ex.Message);
        }
    }

    /// <summary>Client options from <c>REDIS_*</c>: the URL first, then the separate variables, which win.</summary>
    public static RedisClientOptions RedisOptions(GatewaySettings settings)
    {
        var o = settings.Cache;
        var client = o.RedisUrl is { } url ? RedisClientOptions.FromUrl(url) : new RedisClientOptions { Endpoints = o.RedisClusterEndpoints };
        if (o.RedisClusterEndpoints.Count > 0)
        {
            client = client with { Endpoints = o.RedisClusterEndpoints };
        }
        client = client with
        {
            Cluster = o.RedisCluster || o.RedisClusterEndpoints.Count > 0,
            Tls = client.Tls || o.RedisTls,
            TlsCaFile = o.RedisTlsCaFile,
            Username = o.RedisUsername ?? client.Username,
            Password = o.RedisPassword ?? client.Password,
            CommandTimeout = o.Timeout > TimeSpan.FromSeconds(1) ? o.Timeout : TimeSpan.FromSeconds(1),
        };
        if (o.GcpRedisWorkloadAuth)
        {
            // Memorystore IAM auth: the access token is the password; the token source refreshes it before it expires.
            var tokens = new GoogleTokenSource();
            var host = settings.GceMetadataHost;
            client = client with { PasswordProvider = async ct => await tokens.WorkloadTokenAsync(host, ct).ConfigureAwait(false) };
        }
        return client;
    }

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
        if ((Cache?.Store as FailSafeCacheStore)?.Inner is IAsyncDisposable store)
        {
            try
            {
                // Closing the cache store's connections must not hold the process past its shutdown.
                await store.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(3));
            }
            catch (TimeoutException)
            {
                _logger.LogWarning("The cache store's connections did not close within 3 s; exiting without waiting for them");
            }
        }
        if (RequestLog is not null)
        {
            // Every queued record reaches the disk before the process exits.
            await RequestLog.DisposeAsync();
        }
    }
}
