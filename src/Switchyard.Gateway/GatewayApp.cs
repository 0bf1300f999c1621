using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Switchyard.Core.Errors;

namespace Switchyard.Gateway;

/// <summary>Builds the Switchyard web application: the composition root used by <c>Program</c> and by integration tests.</summary>
public static class GatewayApp
{
    public static WebApplication Build(ServerOptions options, HttpMessageHandler? upstreamHandler = null)
    {
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

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownGrace);
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = options.InlineIo);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.Engine.MaxRequestBodyBytes;
            var address = options.BindAddress is "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.BindAddress);
            k.Listen(address, options.Port);
        });

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(sp => new GatewayEngine(options, sp.GetRequiredService<ILoggerFactory>(), upstreamHandler));
        builder.Services.AddSingleton<GatewayEndpoint>();
        builder.Services.AddSingleton<HealthEndpoint>();
        builder.Services.AddSingleton<IdleMemoryTrimmer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IdleMemoryTrimmer>());

        var app = builder.Build();
        var engine = app.Services.GetRequiredService<GatewayEngine>();
        engine.NamedConfigs.Start();

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
                    await ErrorResponses.WriteAsync(context, new GatewayError(ErrorCategory.PayloadTooLarge, "Payload size exceeds the configured limit"));
                }
            }
            catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
            {
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Switchyard.Gateway")
                    .LogError(ex, "Unhandled error serving {Method} {Path}", context.Request.Method, context.Request.Path);
                if (!context.Response.HasStarted)
                {
                    context.Response.Clear();
                    await ErrorResponses.WriteAsync(context, new GatewayError(ErrorCategory.Internal, "Something went wrong"));
                }
                else
                {
                    context.Abort();
                }
            }
        });

        var health = app.Services.GetRequiredService<HealthEndpoint>();
        var gateway = app.Services.GetRequiredService<GatewayEndpoint>();
        app.MapGet("/v1/health", health.HandleAsync);
        app.MapGet("/health", health.HandleAsync);
        app.MapGet("/", context => context.Response.WriteAsync("Switchyard AI gateway. OpenAI-compatible API under /v1; health at /v1/health.\n"));
        app.Map("/v1/{**rest}", gateway.HandleAsync);
        app.MapFallback(context => ErrorResponses.WriteAsync(context, new GatewayError(ErrorCategory.NotFound, "Not Found")));
        app.Lifetime.ApplicationStopping.Register(() =>
            app.Logger.LogInformation("Stopping: finishing in-flight requests (grace {Grace} s)", options.ShutdownGrace.TotalSeconds));
        return app;
    }

    /// <summary>The address the server actually bound (useful with port 0).</summary>
    public static Uri BoundAddress(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First());
    }
}
