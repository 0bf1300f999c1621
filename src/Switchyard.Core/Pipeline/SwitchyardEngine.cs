using Microsoft.Extensions.Logging;
using Switchyard.Core.Caching;
using Switchyard.Core.Caching.Semantic;
using Switchyard.Core.Configs;
using Switchyard.Core.Guardrails;
using Switchyard.Core.Logs;
using Switchyard.Core.Logs.Delivery;
using Switchyard.Core.Logs.Stores;
using Switchyard.Core.Pipeline.Steps;
using Switchyard.Core.Providers;
using Switchyard.Core.Providers.Google;
using Switchyard.Core.Requests;
using Switchyard.Core.Routing;
using Switchyard.Core.Security;
using Switchyard.Core.Usage;
using Switchyard.Core.Usage.Pricing;
using Switchyard.Core.Telemetry;
using Switchyard.Redis;

namespace Switchyard.Core.Pipeline;

/// <summary>
/// The engine's parts wired together once: providers, config compiler and named-config store, the cache, the request
/// and leaf steps, the router and the request log. The server and <see cref="SwitchyardHandler"/> both serve requests
/// through <see cref="SendAsync"/>. Background work (config watching, the log writer, the cache's first connection)
/// starts with <see cref="Start"/>. Each request is recorded in the engine's metrics and spans when it completes.
/// </summary>
public sealed class SwitchyardEngine : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly ILogger _logsLogger;
    private readonly Action<RequestContext> _finish;
    private RedisClient? _redis;

    public SwitchyardEngine(GatewaySettings settings, SwitchyardEngineOptions? options = null)
    {
        options ??= new SwitchyardEngineOptions();
        Settings = settings;
        Time = options.Time;
        var loggers = options.Loggers;
        _logger = loggers.CreateLogger("Switchyard.Cache");
        _logsLogger = loggers.CreateLogger("Switchyard.Logs");
        Metrics = new SwitchyardMetrics(settings.Telemetry);
        Tracing = new SwitchyardTracing(settings.Telemetry.LatestGenAiConventions);
        var trust = ExtraCaTrust.FromPemFile(settings.Upstream.CaFile);
        Providers = ProviderRegistry.Create(new ProviderContext
        {
            Upstream = settings.Upstream,
            Gcp = settings.Gcp,
            Environment = options.Environment,
            Time = options.Time,
            Trust = trust,
            Logger = loggers.CreateLogger("Switchyard.Providers"),
        });
        var hosts = CustomHostValidator.FromEnvironment(settings.Upstream.TrustedCustomHosts);
        // Webhook, log, JWKS and URL checks call out through their own stack, which never follows a redirect by itself.
        GuardrailHttp = new HttpMessageInvoker(CreateUpstreamHandler(settings.Upstream), disposeHandler: true);
        Guardrails = new GuardrailServices(GuardrailHttp, hosts, options.Time, loggers.CreateLogger("Switchyard.Guardrails"));
        var guardrailCompiler = new GuardrailCompiler(Guardrails);
        var hookRunner = new HookRunner(Guardrails) { Metrics = Metrics };
        var compiler = new ConfigCompiler(settings.Retry, Providers, hosts, guardrailCompiler);
        NamedConfigs = new NamedConfigStore(settings.Configs, compiler, options.Environment,
            loggers.CreateLogger("Switchyard.Configs"), options.Time);
        Resolver = new ConfigResolver(compiler, NamedConfigs, Providers, hosts);
        Upstream = new HttpMessageInvoker(options.UpstreamHandler ?? CreateUpstreamHandler(settings.Upstream), disposeHandler: true);
        Cache = CreateCache(settings, options.Time, _logger, embed: SendInternalAsync);
        var routingLog = loggers.CreateLogger("Switchyard.Routing");
        Leaves = new LeafPipeline(
            before: [new InputGuardrailStep(hookRunner, loggers.CreateLogger("Switchyard.Guardrails")), new CacheLookupStep(Cache), new PlanStep()],
            attempt: [new SendStep(Upstream, settings.Upstream, Time, routingLog, Tracing), new OutputGuardrailStep(hookRunner)],
            after: [new CacheStoreStep()],
            settings.Retry, options.Time, routingLog);
        var prices = PriceTable.Load(settings.Pricing);
        Accounting = new UsageAccounting(prices);
        Router = new Router(Providers, Leaves, routingLog, prices: prices);
        Limiter = CreateLimiter(settings, options, prices, loggers);
        Pipeline = new GatewayPipeline([new RequestValidationStep(settings.Limits), new ConfigResolutionStep(Resolver),
            new LimitAdmissionStep(Limiter), new DefaultGuardrailsStep(guardrailCompiler)], Router,
            loggers.CreateLogger("Switchyard.Pipeline"));
        var logs = settings.Logs;
        if (logs.Store == "local")
        {
            var local = new JsonLinesLogWriter(logs.Directory, logs.QueueCapacity, _logsLogger, logs.FileLimitBytes, logs.TotalLimitBytes, options.Time);
            RequestLog = local;
            LogDelivery = local;
            LogLookup = new LocalLogLookup(logs.Directory);
        }
        else if (logs.IsObjectStore)
        {
            // Records go to a bucket through the shipper (queue, writers, breaker, spill); lookups read the bucket by key.
            var objects = logs.Objects;
            _logStore = LogObjectStores.Create(objects, logs.Store, options.Time, _logsLogger);
            var shipper = new LogShipper(_logStore,
                r => new LogObject(LogObjectPath.For(objects, r.LogId ?? r.TraceId, r.StartedAt), RequestLogDocument.Serialize(r, objects.OrganisationId)),
                logs.Delivery, logs.QueueCapacity, options.Time, _logsLogger);
            RequestLog = shipper;
            LogDelivery = shipper;
            LogLookup = new ObjectStoreLogLookup(_logStore, objects);
        }
        if (LogDelivery is not null)
        {
            Metrics.Observe(LogDelivery);
        }
        _finish = Finish;
    }

    public GatewaySettings Settings { get; }

    public TimeProvider Time { get; }

    /// <summary>Where request records go (the local writer or the object-store shipper); null when <c>LOG_STORE=none</c>.</summary>
    public IRequestLogSink? RequestLog { get; }

    /// <summary>How record delivery is doing (queue, spill, drops), for <c>/metrics</c> and <c>/v1/health</c>; null when <c>LOG_STORE=none</c>.</summary>
    public ILogDeliveryStatus? LogDelivery { get; }

    private readonly ILogObjectStore? _logStore;

    /// <summary>Reads records back from the configured store; null when <c>LOG_STORE=none</c>.</summary>
    public IRequestLogLookup? LogLookup { get; }

    /// <summary>The engine's instruments (meter <c>Switchyard</c>); they cost next to nothing until a meter provider listens.</summary>
    public SwitchyardMetrics Metrics { get; }

    /// <summary>The engine's spans (activity source <c>Switchyard</c>); none are made until a tracer listens.</summary>
    public SwitchyardTracing Tracing { get; }

    /// <summary>Rate limits and budgets: usage and what remains, for the admin API; null when no rule is configured anywhere.</summary>
    public Limits.ILimitUsage? Limits => Limiter.HasRules ? Limiter : null;

    /// <summary>Admits requests against rate limits and budgets and settles what they used (<c>LIMITS_*</c>, key and virtual-key rules).</summary>
    public Limits.UsageLimiter Limiter { get; }

    /// <summary>The Redis connection the limit counters use until they share the gateway's one (rewired at merge).</summary>
    private SeRedisCacheStore? _limitsRedis;

    /// <summary>The response cache; null when <c>CACHE_STORE=none</c>.</summary>
    public ResponseCache? Cache { get; }

    public ProviderRegistry Providers { get; }

    public NamedConfigStore NamedConfigs { get; }

    public ConfigResolver Resolver { get; }

    public LeafPipeline Leaves { get; }

    public Router Router { get; }

    /// <summary>Settles each finished request's usage (estimating what the provider did not report) and cost.</summary>
    internal UsageAccounting Accounting { get; }

    public GatewayPipeline Pipeline { get; }

    public HttpMessageInvoker Upstream { get; }

    /// <summary>What guardrail checks use: their HTTP stack (no auto-redirects), the SSRF rules, the JWKS cache.</summary>
    public GuardrailServices Guardrails { get; }

    private HttpMessageInvoker GuardrailHttp { get; }

    /// <summary>Starts the background work: watching the config directory and connecting the cache store.</summary>
    public void Start()
    {
        NamedConfigs.Start();
        Limiter.Start();
        // Loading a tiktoken vocabulary takes about half a second: not on the first request that needs a count.
        _ = Task.Run(Usage.Tokens.TokenCounter.Preload);
        switch (RequestLog)
        {
            case JsonLinesLogWriter local:
                local.Start();
                break;
            case LogShipper shipper:
                shipper.Start();
                break;
        }
        if (_redis is { } client)
        {
            _ = WarmUpAsync(client, Settings.Cache, _logger);
        }
    }

    /// <summary>A context for a new request; completing it writes the request-log record.</summary>
    /// <remarks>A trace id that cannot be echoed in a header (not printable ASCII, or over 128 characters) is replaced, and the request refused with a 400.</remarks>
    public RequestContext CreateContext(string? traceId = null)
    {
        var valid = traceId is { Length: > 0 and <= 128 } && traceId.AsSpan().IndexOfAnyExceptInRange('\u0021', '\u007e') < 0;
        var logging = RequestLog is not null;
        // Usage is read from answers whenever something consumes it: the log, or token and cost metrics being scraped.
        return new RequestContext(valid ? traceId! : TraceIds.NewId(Time), Time, wantsUsage: logging || Metrics.CountsUsage || Limiter.CountsUsage, finish: _finish)
        {
            RejectedTraceId = string.IsNullOrEmpty(traceId) || valid ? null : traceId,
            // A client's trace id may name several requests; each record still needs its own id.
            LogId = valid && logging ? TraceIds.NewId(Time) : null,
            CaptureLimit = logging ? Math.Max(Settings.Logs.MaxBodyBytes, MinimumCapture) : 0,
            Streams = Metrics.Streams,
        };
    }

    /// <summary>Serves one request (see <see cref="GatewayPipeline.SendAsync"/>); its span starts here when tracing is on.</summary>
    public Task<HttpResponseMessage> SendAsync(GatewayRequest request, RequestContext context, CancellationToken ct)
    {
        Tracing.StartRequest(context, request);
        return Pipeline.SendAsync(request, context, ct);
    }

    /// <summary>Answer bytes kept for a usage estimate even when bodies are not logged (a stream cut before its usage event).</summary>
    private const int MinimumCapture = 256 * 1024;

    /// <summary>Runs once per request, after it completed (and after its async hooks, bounded): usage and cost, metrics, spans, the log record.</summary>
    private void Finish(RequestContext context)
    {
        try
        {
            Accounting.Settle(context);
        }
        catch (Exception ex)
        {
            // A defect in accounting must cost the figures, never the answer already on its way.
            _logsLogger.LogError(ex, "Could not settle the usage of {TraceId}", context.TraceId);
        }
        try
        {
            Limiter.Settle(context);
        }
        catch (Exception ex)
        {
            _logsLogger.LogError(ex, "Could not settle the limits of {TraceId}", context.TraceId);
        }
        Metrics.Record(context);
        Tracing.Complete(context);
        if (RequestLog is null || context.Request is { } request && LogBodyPolicy.Ignored(request.Headers))
        {
            return;
        }
        RequestLogRecord record;
        try
        {
            record = context.ToLogRecord(Settings.Logs);
        }
        catch (Exception ex)
        {
            // A defect in building the record must cost the record, never the answer already on its way.
            _logsLogger.LogError(ex, "Could not build the request-log record of {TraceId}", context.TraceId);
            return;
        }
        RequestLog.TryWrite(record);
    }

    private Limits.UsageLimiter CreateLimiter(GatewaySettings settings, SwitchyardEngineOptions options, PriceTable prices, ILoggerFactory loggers)
    {
        Func<CancellationToken, Task<StackExchange.Redis.IDatabase>>? redis = null;
        if (settings.Cache.Store == "redis")
        {
            // Its own multiplexer for now, configured like the cache's (TLS, IAM auth, cluster); to share the gateway's connection later.
            _limitsRedis = new SeRedisCacheStore(RedisOptions(settings, options.Time));
            var store = _limitsRedis;
            redis = async ct => await store.DatabaseAsync(ct).ConfigureAwait(false);
        }
        // Virtual keys' rules arrive with the virtual-key store; until it is wired no virtual key has rules.
        return new Limits.UsageLimiter(settings.UsageLimits, redis, static _ => null, prices, options.Time,
            loggers.CreateLogger("Switchyard.Limits"), Metrics.Meter, settings.Cache.KeyPrefix);
    }

    /// <summary>The gateway calling itself (the semantic cache's embedding target): a request that is not logged.</summary>
    private async Task<HttpResponseMessage> SendInternalAsync(GatewayRequest request, Routing.RoutePlan plan, CancellationToken ct)
    {
        var context = new RequestContext(TraceIds.NewId(Time), Time) { Request = request, Plan = plan };
        var outcome = await Router.RouteAsync(request, plan, context, ct).ConfigureAwait(false);
        if (outcome.Error is { } error)
        {
            outcome.Dispose();
            throw new InvalidOperationException(error.Message);
        }
        outcome.Response!.Content = new ObservedContent(outcome.Response.Content, context, outcome.DetachAttemptScope());
        return outcome.Response;
    }

    private ResponseCache? CreateCache(GatewaySettings settings, TimeProvider time, ILogger logger, Func<GatewayRequest, Routing.RoutePlan, CancellationToken, Task<HttpResponseMessage>> embed)
    {
        var options = settings.Cache;
        ICacheStore store;
        switch (options.Store)
        {
            case "none":
                return null;
            case "redis" when options.RedisClient == "stackexchange":
                store = new SeRedisCacheStore(RedisOptions(settings, time));
                break;
            case "redis":
                _redis = new RedisClient(RedisOptions(settings, time));
                store = new RedisCacheStore(_redis);
                break;
            default:
                store = new MemoryCacheStore(options.MemoryMaxBytes, time);
                break;
        }
        var safe = new FailSafeCacheStore(store, options.Timeout, time, logger);
        Metrics.Observe(safe, options.StoreName);
        IEmbedder embedder = options.EmbeddingProvider is null
            ? new HashedNgramEmbedder()
            : new TargetEmbedder(options, embed);
        var semantic = new SemanticMatcher(embedder, options.SimilarityThreshold, options.EmbeddingTimeout, time: time);
        return new ResponseCache(safe, time, logger, options.KeyPrefix, options.MaxEntryBytes, semantic);
    }

    private static async Task WarmUpAsync(RedisClient client, CacheOptions options, ILogger logger)
    {
        try
        {
            // Connect now, so the first requests do not pay for connection set-up and an unreachable server is reported at start.
            await client.PingAsync().ConfigureAwait(false);
            logger.LogInformation("Cache store {Store} connected ({Mode})", options.StoreName, options.RedisCluster ? "cluster" : "standalone");
        }
        catch (Exception ex)
        {
            logger.LogWarning("Cache store {Store} is not reachable yet ({Reason}); requests are served without the cache until it is", options.StoreName, ex.Message);
        }
    }

    /// <summary>Client options from <c>REDIS_*</c>: the URL first, then the separate variables, which win.</summary>
    /// <param name="time">The engine's clock, for the lifetime of Memorystore IAM tokens.</param>
    public static RedisClientOptions RedisOptions(GatewaySettings settings, TimeProvider time)
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
            var tokens = new GoogleTokenSource(time);
            var host = settings.Gcp.MetadataHost;
            client = client with { PasswordProvider = async ct => await tokens.WorkloadTokenAsync(host, ct).ConfigureAwait(false) };
        }
        return client;
    }

    /// <summary>One pooled HTTP stack for every upstream: no redirects, cookies or decompression (bytes pass through as sent).</summary>
    public static SocketsHttpHandler CreateUpstreamHandler(UpstreamOptions settings)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            ConnectTimeout = settings.ConnectTimeout,
            // After a burst, every idle upstream connection keeps a socket and its buffers: 5,000 streams left ~70 MB
            // behind for the whole idle timeout. 30 s still keeps connections warm under any steady traffic.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            // Recycle connections so DNS changes (e.g. a provider's failover) are picked up.
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            MaxConnectionsPerServer = int.MaxValue,
            EnableMultipleHttp2Connections = true,
            // An abandoned response closes its connection at once; draining it would keep a provider generating (and billing) for nothing.
            MaxResponseDrainSize = 0,
            // No automatic trace headers: the runtime would send a traceparent whenever any activity is current (ASP.NET
            // Core makes one per request), with tracing off too, naming a span nobody exports. The attempt span sets its
            // own traceparent when tracing is on (SwitchyardTracing.Propagate). Also spares an activity per upstream call.
            ActivityHeadersPropagator = null,
        };
        ExtraCaTrust.FromPemFile(settings.CaFile)?.ApplyTo(handler);
        return handler;
    }

    public async ValueTask DisposeAsync()
    {
        Metrics.Dispose();
        NamedConfigs.Dispose();
        Limiter.Dispose();
        if (_limitsRedis is not null)
        {
            try
            {
                await _limitsRedis.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _logger.LogWarning("The limit counters' Redis connection did not close within 3 s; exiting without waiting for it");
            }
        }
        Upstream.Dispose();
        GuardrailHttp.Dispose();
        if ((Cache?.Store as FailSafeCacheStore)?.Inner is IAsyncDisposable store)
        {
            try
            {
                // Closing the cache store's connections must not hold the process past its shutdown.
                await store.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _logger.LogWarning("The cache store's connections did not close within 3 s; exiting without waiting for them");
            }
        }
        if (RequestLog is IAsyncDisposable log)
        {
            // Every queued record reaches the disk or the store (or, for a store that is down, the spill directory) before the process exits.
            await log.DisposeAsync().ConfigureAwait(false);
        }
        if (_logStore is not null)
        {
            await _logStore.DisposeAsync().ConfigureAwait(false);
        }
    }
}
