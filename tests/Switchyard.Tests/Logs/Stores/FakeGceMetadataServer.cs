using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Switchyard.Simulators;

namespace Switchyard.Tests.Logs.Stores;

/// <summary>
/// The GCE/GKE metadata server's token endpoint on 127.0.0.1, as workload identity serves it: it answers only requests
/// that carry <c>Metadata-Flavor: Google</c> (403 otherwise, as the real one does), and every token it hands out is new
/// and recorded, so <see cref="FakeGcsServer"/> can accept exactly those.
/// </summary>
public sealed class FakeGceMetadataServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, bool> _tokens = new();
    private int _issued;

    private FakeGceMetadataServer(WebApplication app) => _app = app;

    /// <summary>host:port, the form <c>GCE_METADATA_HOST</c> takes.</summary>
    public string Host { get; private set; } = "";

    /// <summary>Tokens handed out so far.</summary>
    public int Issued => Volatile.Read(ref _issued);

    /// <summary>Token requests refused for a missing <c>Metadata-Flavor</c> header.</summary>
    public int Refused => Volatile.Read(ref _refused);

    private int _refused;

    /// <summary>True for a token this server handed out.</summary>
    public bool IsValid(string token) => _tokens.ContainsKey(token);

    public static async Task<FakeGceMetadataServer> StartAsync()
    {
        var app = LoopbackApp.Build("fake-gce-metadata");
        var server = new FakeGceMetadataServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.Host = $"127.0.0.1:{LoopbackApp.Port(app)}";
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        context.Response.Headers["Metadata-Flavor"] = "Google";
        if (context.Request.Headers["Metadata-Flavor"] != "Google")
        {
            Interlocked.Increment(ref _refused);
            context.Response.StatusCode = 403;
            await context.Response.WriteAsync("Missing required header \"Metadata-Flavor\": \"Google\"\n");
            return;
        }
        switch (context.Request.Path.Value)
        {
            case "/":
                context.Response.ContentType = "application/text";
                await context.Response.WriteAsync("computeMetadata/\n");
                return;
            case "/computeMetadata/v1/universe/universe-domain":
                await context.Response.WriteAsync("googleapis.com");
                return;
            case "/computeMetadata/v1/instance/service-accounts/default/token" when context.Request.Method == "GET":
            {
                var n = Interlocked.Increment(ref _issued);
                var token = $"ya29.fake-{n.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}";
                _tokens[token] = true;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync($$"""{"access_token":"{{token}}","expires_in":3599,"token_type":"Bearer"}""");
                return;
            }
            default:
                context.Response.StatusCode = 404;
                context.Response.ContentType = "text/html";
                await context.Response.WriteAsync("Not Found");
                return;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
