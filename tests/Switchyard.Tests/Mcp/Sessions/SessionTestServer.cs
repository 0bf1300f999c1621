using System.Net;
using Xunit;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Switchyard.Core.Pipeline;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Proxy;
using Switchyard.Gateway.Mcp.Sessions;

namespace Switchyard.Tests.Mcp.Sessions;

/// <summary>
/// The SDK's own MCP server on Kestrel (127.0.0.1, a free port), legacy sessions on, with <see cref="McpSessionServices.AddMcpSessions"/>'s
/// registrations. A tiny middleware stands in for the gateway's auth and route steps: the caller comes from <c>x-test-caller</c>
/// (attached with <see cref="McpCaller.AttachTo"/>) and the route is the path's first segment (<c>/{route}/mcp</c>).
/// Tools: <c>echo</c>, and <c>slow_progress</c> which reports progress 1, waits for <see cref="ReleaseSlowTool"/>, then reports 2..4 and answers.
/// </summary>
internal sealed class SessionTestServer : IAsyncDisposable
{
    public const string ProtocolVersion = "2025-11-25";
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SessionTestServer(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
        Client = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri BaseUrl { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public void ReleaseSlowTool() => _release.TrySetResult();

    public static async Task<SessionTestServer> StartAsync(McpOptions options, SwitchyardEngine? engine = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        if (engine is not null)
        {
            builder.Services.AddSingleton(engine);
        }
        builder.Services.AddMcpSessions(options);
        SessionTestServer? self = null;
        var echo = McpServerTool.Create((string text) => "echo: " + text, new McpServerToolCreateOptions { Name = "echo" });
        var slow = McpServerTool.Create(async (IProgress<ProgressNotificationValue> progress) =>
        {
            progress.Report(new() { Progress = 1, Total = 4, Message = "step 1" });
            await self!._release.Task.WaitAsync(TimeSpan.FromSeconds(60));
            for (var i = 2; i <= 4; i++)
            {
                progress.Report(new() { Progress = i, Total = 4, Message = $"step {i}" });
            }
            return "done";
        }, new McpServerToolCreateOptions { Name = "slow_progress" });
        builder.Services.AddMcpServer()
            .WithHttpTransport(o => o.SessionMode = HttpServerSessionMode.StatefulForInitializeClients)
            .WithTools([echo, slow]);
        var app = builder.Build();
        app.Use((context, next) =>
        {
            var caller = context.Request.Headers["x-test-caller"].ToString();
            if (caller.Length > 0)
            {
                new McpCaller { Id = "key:" + caller, Name = caller }.AttachTo(context);
            }
            var segments = (context.Request.Path.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (segments.Length == 2)
            {
                context.Items[McpRouteResolution.ItemKey] = new McpRoute { Path = segments[0], Upstreams = [] };
            }
            return next(context);
        });
        app.MapMcp("/{route}/mcp");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new SessionTestServer(app, new Uri(address));
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        _release.TrySetResult();
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A JSON-RPC POST as a legacy-era client sends it.</summary>
    public static HttpRequestMessage Post(string path, string json, string? sessionId, string? caller)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        Decorate(request, sessionId, caller);
        return request;
    }

    public static void Decorate(HttpRequestMessage request, string? sessionId, string? caller)
    {
        if (sessionId is not null)
        {
            request.Headers.Add("Mcp-Session-Id", sessionId);
            request.Headers.Add("MCP-Protocol-Version", ProtocolVersion);
        }
        if (caller is not null)
        {
            request.Headers.Add("x-test-caller", caller);
        }
    }

    /// <summary>Initializes a session (initialize, then notifications/initialized) and returns its id.</summary>
    public async Task<string> InitializeAsync(string path, string? caller)
    {
        using var response = await Client.SendAsync(Post(path,
            """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":""" + "\"" + ProtocolVersion + "\"" + ""","capabilities":{},"clientInfo":{"name":"session-test","version":"1.0"}}}""",
            null, caller));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"initialize answered {(int)response.StatusCode}: {body}");
        Assert.Contains("\"protocolVersion\"", body, StringComparison.Ordinal);
        var sessionId = response.Headers.GetValues("Mcp-Session-Id").Single();
        using var initialized = await Client.SendAsync(Post(path, """{"jsonrpc":"2.0","method":"notifications/initialized"}""", sessionId, caller));
        Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        return sessionId;
    }

    /// <summary>The JSON-RPC messages of an SSE body (or a plain JSON body), with their event ids.</summary>
    public static async Task<List<(string? Id, JsonElement Message)>> ReadMessagesAsync(HttpResponseMessage response)
    {
        var list = new List<(string?, JsonElement)>();
        await using var stream = await response.Content.ReadAsStreamAsync();
        if (response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            list.Add((null, (await JsonDocument.ParseAsync(stream)).RootElement.Clone()));
            return list;
        }
        await foreach (var item in SseParser.Create(stream).EnumerateAsync())
        {
            if (item.Data.Length > 0)
            {
                list.Add((item.EventId, JsonDocument.Parse(item.Data).RootElement.Clone()));
            }
        }
        return list;
    }
}
