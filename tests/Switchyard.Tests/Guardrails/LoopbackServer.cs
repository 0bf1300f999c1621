using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Switchyard.Simulators;

namespace Switchyard.Tests.Guardrails;

/// <summary>A throwaway HTTP server on 127.0.0.1 that answers with a test's handler and records what it received.</summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackServer(WebApplication app)
    {
        _app = app;
        Port = LoopbackApp.Port(app);
    }

    public int Port { get; }

    public ConcurrentQueue<Received> Requests { get; } = new();

    public Uri Url(string path) => new($"http://127.0.0.1:{Port}{path}");

    public static async Task<LoopbackServer> StartAsync(Func<HttpContext, string, Task> handler)
    {
        var app = LoopbackApp.Build("guardrail-tests");
        LoopbackServer? server = null;
        app.Run(async ctx =>
        {
            using var reader = new StreamReader(ctx.Request.Body);
            var body = await reader.ReadToEndAsync();
            server!.Requests.Enqueue(new Received(ctx.Request.Method, ctx.Request.Path + ctx.Request.QueryString,
                body, ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            await handler(ctx, body);
        });
        await app.StartAsync();
        server = new LoopbackServer(app);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public sealed record Received(string Method, string PathAndQuery, string Body, Dictionary<string, string> Headers);
}
