using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Switchyard.Core.Errors;
using Switchyard.Core.Pipeline;
using Switchyard.Gateway.Endpoints;
using Switchyard.Gateway.Endpoints.Admin;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Hosting;
using Switchyard.Gateway.Observability;

namespace Switchyard.Gateway.Hosting;

/// <summary>Builds the Switchyard web application: the composition root used by <c>Program</c> and by integration tests.</summary>
public static class GatewayApp
{
    /// <param name="options">The settings.</param>
    /// <param name="upstreamHandler">The HTTP handler for provider calls (tests point it at simulators).</param>
    /// <param name="configureServices">Runs after every registration, so a test (or an embedding host) can replace a service.</param>
    public static WebApplication Build(ServerOptions options, HttpMessageHandler? upstreamHandler = null, Action<IServiceCollection>? configureServices = null)
    {
        // Before anything is built: a directory that cannot be written is a setting to fix, reported like any other.
        WritableDirectories.Check(options);
        var metrics = new MetricsListener();
        var admin = new AdminListener();
        var mcpListener = new McpListener();
        // Parsed here, like the rest: a bad MCP_* value stops the start naming it.
        var mcp = options.Mode.ServesMcp() ? McpOptions.FromEnvironment(options.Environment) : null;
        // Parsed here, not when first resolved: a bad value must stop the start with its message, not a stack trace.
        var shedding = LoadSheddingOptions.FromEnvironment(options.Environment);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o =>
        {
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            o.IncludeScopes = false;
        });
        builder.Logging.SetMinimumLevel(options.LogLevel);
        // Framework chatter stays at warning unless the operator asks for debug.
        builder.Logging.AddFilter("Microsoft", options.LogLevel <= LogLevel.Debug ? options.LogLevel : LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);

        // The drain runs inside the host's stop, before Kestrel's graceful stop: give the host both so the grace stays whole.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownDrain + options.ShutdownGrace);
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = options.InlineIo);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.Engine.Limits.MaxBodyBytes;
            var address = options.BindAddress is "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.BindAddress);
            if (options.Mode.ServesAi())
            {
                k.Listen(address, options.Port);
            }
            if (options.HasMcpListener)
            {
                k.Listen(address, options.McpPort, mcpListener.Attach);
            }
            if (options.Observability is { EnablePrometheus: true, MetricsPort: { } metricsPort })
            {
                k.Listen(address, metricsPort, metrics.Attach);
            }
            if (options.Admin.Port is { } adminPort)
            {
                var adminAddress = options.Admin.BindAddress is not { } bind ? address : bind is "localhost" ? IPAddress.Loopback : IPAddress.Parse(bind);
                k.Listen(adminAddress, adminPort, admin.Attach);
            }
        });

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(metrics);
        builder.Services.AddSingleton(mcpListener);
        builder.AddTelemetry(options);
        builder.Services.AddSingleton(sp => new SwitchyardEngine(options.Engine, new SwitchyardEngineOptions
        {
            Environment = options.Environment,
            Time = options.Time,
            Loggers = sp.GetRequiredService<ILoggerFactory>(),
            UpstreamHandler = upstreamHandler,
        }));
        builder.Services.AddHostedService<EngineService>();
        builder.Services.AddSingleton<GatewayReadiness>();
        builder.Services.AddHostedService<ShutdownDrain>();
        builder.Services.AddSingleton<ReadinessEndpoint>();
        if (options.Auth.Keys)
        {
            builder.Services.AddSingleton(sp =>
            {
                var store = new Core.Security.ApiKeys.ApiKeyStore(options.Auth.ApiKeysPath!, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Switchyard.ApiKeys"),
                    options.Time, options.Auth.ReloadDebounce);
                store.Start();
                // Key rules are read from each request's key; the limiter also needs the set for the admin API and usage counting.
                var limiter = sp.GetRequiredService<SwitchyardEngine>().Limiter;
                store.Reloaded += snapshot => limiter.UseKeys(snapshot.ByHash.Values);
                limiter.UseKeys(store.Current.ByHash.Values);
                return store;
            });
        }
        if (options.Auth.Jwt is { } jwt)
        {
            builder.Services.AddSingleton(sp => new Core.Security.Jwt.JwtAuthenticator(jwt, options.Time,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("Switchyard.Jwt")));
        }
        if (options.Auth.Required)
        {
            builder.Services.AddSingleton(sp => new ApiKeyGate(sp.GetService<Core.Security.ApiKeys.ApiKeyStore>(),
                sp.GetService<Core.Security.Jwt.JwtAuthenticator>(), options.Time));
        }
        builder.Services.AddAdminApi(options, admin);
        builder.Services.AddSingleton<GatewayEndpoint>();
        builder.Services.AddSingleton<HealthEndpoint>();
        builder.Services.AddSingleton<LogLookupEndpoint>();
        builder.Services.AddSingleton(_ => ResourceLimits.Detect());
        builder.Services.AddSingleton(sp => new LoadShedder(shedding, sp.GetRequiredService<ResourceLimits>(),
            options.Time, sp.GetRequiredService<ILogger<LoadShedder>>(), sp.GetRequiredService<SwitchyardEngine>().Metrics.Meter));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LoadShedder>());
        builder.Services.AddSingleton<IdleMemoryTrimmer>();
        if (mcp is not null)
        {
            builder.Services.AddMcpGateway(mcp);
        }
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IdleMemoryTrimmer>());

        configureServices?.Invoke(builder.Services);
        var app = builder.Build();

        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                if (!context.Response.HasStarted)
                {
                    await WriteErrorAsync(context, new GatewayError(ErrorCategory.PayloadTooLarge, "Payload size exceeds the configured limit"));
                }
            }
            catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
            {
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Switchyard.Gateway")
                    .LogError(ex, "Unhandled error serving {Method} {Path}", context.Request.Method, context.Request.Path);
                if (!context.Response.HasStarted)
                {
                    context.Response.Clear();
                    await WriteErrorAsync(context, new GatewayError(ErrorCategory.Internal, "Something went wrong"));
                }
                else
                {
                    context.Abort();
                }
            }
        });

        var readiness = app.Services.GetRequiredService<GatewayReadiness>();
        app.Use((context, next) =>
        {
            // While draining, each answer closes its connection so keep-alive clients reconnect to a replica that stays.
            if (readiness.Draining)
            {
                context.Response.Headers.Connection = "close";
            }
            return next(context);
        });
        app.UseMetricsPortIsolation();
        app.UseAdminPortIsolation();
        if (mcp is not null)
        {
            app.UseMcpPortIsolation(options.Mode);
            app.UseMcpGateway();
        }
        var health = app.Services.GetRequiredService<HealthEndpoint>();
        var ready = app.Services.GetRequiredService<ReadinessEndpoint>();
        var gateway = app.Services.GetRequiredService<GatewayEndpoint>();
        if (options.Auth.Keys)
        {
            // Loaded now, not on the first request: problems show in the start-up log and in health straight away.
            _ = app.Services.GetRequiredService<Core.Security.ApiKeys.ApiKeyStore>();
        }
        if (options.Auth.Jwt is { } jwtOptions)
        {
            // The first key fetch starts now, in the background, for the same reason; requests that come first wait for it.
            _ = app.Services.GetRequiredService<Core.Security.Jwt.JwtAuthenticator>().Keys.StartAsync();
            if (jwtOptions.Issuers is null || jwtOptions.Audiences is null)
            {
                app.Logger.LogWarning("AUTH_MODE=jwt without {Missing}: any token the identity provider signs, for any application, is accepted. Set JWT_ISSUER and JWT_AUDIENCE (docs/access-control.md)",
                    jwtOptions.Issuers is null && jwtOptions.Audiences is null ? "JWT_ISSUER and JWT_AUDIENCE" : jwtOptions.Issuers is null ? "JWT_ISSUER" : "JWT_AUDIENCE");
            }
            if (jwtOptions.JwksUrl.Scheme == "http" && !jwtOptions.JwksUrl.IsLoopback)
            {
                app.Logger.LogWarning("JWT_JWKS_URL uses plain http: whoever can alter that traffic can make the gateway trust their own signing keys. Use https");
            }
        }
        if (!options.Auth.Required && options.BindAddress is not ("localhost" or "127.0.0.1" or "::1") && options.Mode.ServesMcp())
        {
            app.Logger.LogWarning("AUTH_MODE=none on {Address}: anyone who can reach the MCP gateway can call every upstream MCP server with the credentials the servers file gives it. Set AUTH_MODE=keys (keys with the mcp.invoke scope) or AUTH_MODE=jwt (docs/mcp.md), or bind to 127.0.0.1",
                options.BindAddress);
        }
        if (!options.Auth.Required && options.BindAddress is not ("localhost" or "127.0.0.1" or "::1") && options.Mode.ServesAi())
        {
            app.Logger.LogWarning("AUTH_MODE=none on {Address}: anyone who can reach this port can spend the provider keys of every named config. Set AUTH_MODE=keys with API_KEYS_PATH, or AUTH_MODE=jwt with JWT_JWKS_URL (docs/access-control.md), or bind to 127.0.0.1",
                options.BindAddress);
        }
        app.MapGet("/v1/health", health.HandleAsync);
        app.MapGet("/health", health.HandleAsync);
        app.MapGet("/v1/health/ready", ready.HandleAsync);
        app.MapGet("/health/ready", ready.HandleAsync);
        app.MapTelemetry(options);
        app.MapAdminApi();
        if (mcp is not null)
        {
            app.MapMcpGateway();
        }
        if (options.Mode.ServesAi())
        {
            var logLookup = app.Services.GetRequiredService<LogLookupEndpoint>();
            app.MapGet("/v1/logs/{id}", context => logLookup.HandleAsync(context, (string)context.Request.RouteValues["id"]!));
            app.MapGet("/", context => context.Response.WriteAsync("Switchyard AI gateway. OpenAI-compatible API under /v1; health at /v1/health.\n"));
            app.Map("/v1/{**rest}", gateway.HandleAsync);
        }
        app.MapFallback(context => WriteErrorAsync(context, new GatewayError(ErrorCategory.NotFound, "Not Found")));
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            readiness.BeginDrain();
            if (options.ShutdownDrain > TimeSpan.Zero)
            {
                app.Logger.LogInformation("Stopping: readiness is 503; serving {Drain} s more so load balancers stop sending, then finishing in-flight requests (grace {Grace} s)",
                    options.ShutdownDrain.TotalSeconds, options.ShutdownGrace.TotalSeconds);
            }
            else
            {
                app.Logger.LogInformation("Stopping: finishing in-flight requests (grace {Grace} s)", options.ShutdownGrace.TotalSeconds);
            }
        });
        return app;
    }

    /// <summary>An error the server answers itself, outside the engine (unknown route, a body over Kestrel's limit, a defect).</summary>
    internal static Task WriteErrorAsync(HttpContext context, GatewayError error)
    {
        var response = context.Response;
        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        if (error.IsGatewayException)
        {
            response.Headers[PortkeyHeaders.GatewayException] = "true";
        }
        var body = ErrorResponses.Body(error, Core.Requests.EndpointKinds.FromUpstreamPath(context.Request.Method,
            context.Request.Path.StartsWithSegments("/v1", out var rest) ? rest.Value ?? "/" : ""));
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>The bound <c>METRICS_PORT</c> (useful with 0); -1 without a separate metrics port.</summary>
    public static int BoundMetricsPort(WebApplication app) => app.Services.GetRequiredService<MetricsListener>().Port;

    /// <summary>The bound <c>ADMIN_PORT</c> (useful with 0); -1 without a separate admin port.</summary>
    public static int BoundAdminPort(WebApplication app) => app.Services.GetRequiredService<AdminListener>().Port;

    /// <summary>The bound <c>MCP_PORT</c> (useful with 0); -1 without a separate MCP listener (AI gateway only, or MCP on the main port).</summary>
    public static int BoundMcpPort(WebApplication app) => app.Services.GetRequiredService<McpListener>().Port;

    /// <summary>The address the server actually bound (useful with port 0).</summary>
    public static Uri BoundAddress(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First());
    }
}
