using System.Collections.Frozen;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using ModelContextProtocol.Client;
using Switchyard.Gateway.Mcp;
using Switchyard.Tests.Infrastructure;

namespace Switchyard.Tests.Mcp.Proxy;

/// <summary>
/// The MCP gateway on a bare web application on 127.0.0.1:0: <c>AddMcpGateway</c>, then a <see cref="StaticMcpRegistrySource"/>
/// and <see cref="McpTestConnector"/> registered after it (so they win), then <c>UseMcpGateway</c> + <c>MapMcpGateway</c>.
/// Reusable by every MCP test area.
/// </summary>
public sealed class McpProxyHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private McpProxyHost(WebApplication app, StaticMcpRegistrySource registry, Uri baseUrl)
    {
        _app = app;
        Registry = registry;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public StaticMcpRegistrySource Registry { get; }

    public IServiceProvider Services => _app.Services;

    public McpTestConnector Connector => (McpTestConnector)_app.Services.GetRequiredService<IMcpUpstreamConnector>();

    /// <param name="configure">Runs after the gateway, registry and connector registrations (register a test policy or observer here).</param>
    public static async Task<McpProxyHost> StartAsync(McpRegistry registry, Action<IServiceCollection>? configure = null, McpOptions? options = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions());
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddMcpGateway(options ?? new McpOptions());
        var source = new StaticMcpRegistrySource(registry);
        builder.Services.AddSingleton<IMcpRegistrySource>(source);
        builder.Services.AddSingleton<IMcpUpstreamConnector, McpTestConnector>();
        configure?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseMcpGateway();
        app.MapMcpGateway();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new McpProxyHost(app, source, new Uri(address));
    }

    /// <summary>The MCP endpoint of a route: <c>everything</c>, <c>acme/fs</c>, <c>v/dev</c>.</summary>
    public Uri Endpoint(string route) => new(BaseUrl, "/" + route + "/mcp");

    /// <summary>An SDK client through the gateway; <paramref name="protocolVersion"/> <c>2025-11-25</c> for the legacy era, null for the SDK default (2026-07-28).</summary>
    public Task<McpClient> ConnectAsync(string route, string? protocolVersion = null, McpClientOptions? options = null, CancellationToken ct = default)
    {
        options ??= new McpClientOptions();
        options.ProtocolVersion ??= protocolVersion;
        var transport = new HttpClientTransport(new HttpClientTransportOptions { Endpoint = Endpoint(route), Name = "test-client" });
        return McpClient.CreateAsync(transport, options, cancellationToken: ct);
    }

    /// <summary>An upstream entry for an HTTP fixture's <c>/mcp</c> endpoint.</summary>
    public static McpUpstreamServer HttpServer(string id, McpFixtureProcess fixture, McpToolRules? tools = null)
    {
        var slash = id.LastIndexOf('/');
        return new McpUpstreamServer
        {
            Id = id,
            Name = slash < 0 ? id : id[(slash + 1)..],
            Workspace = slash < 0 ? null : id[..slash],
            Transport = McpUpstreamTransport.StreamableHttp,
            Url = new Uri(fixture.BaseUrl, "/mcp"),
            Tools = tools ?? McpToolRules.All,
            RequestTimeout = TimeSpan.FromSeconds(30),
        };
    }

    /// <summary>server-everything over stdio.</summary>
    public static McpUpstreamServer StdioEverything(string id) => new()
    {
        Id = id,
        Name = id,
        Transport = McpUpstreamTransport.Stdio,
        Command = "node",
        Arguments = [McpFixtures.Everything, "stdio"],
        WorkingDirectory = McpFixtures.Directory,
        RequestTimeout = TimeSpan.FromSeconds(30),
    };

    public static McpRegistry RegistryOf(IEnumerable<McpUpstreamServer> servers, IEnumerable<McpVirtualServer>? virtualServers = null) => new()
    {
        Servers = servers.ToFrozenDictionary(s => s.Id),
        VirtualServers = (virtualServers ?? []).ToFrozenDictionary(v => v.Name),
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Test-only connector: the SDK's HTTP (auto-detecting or SSE) and stdio client transports; counts connections.</summary>
public sealed class McpTestConnector(ILoggerFactory loggers) : IMcpUpstreamConnector
{
    private int _connections;

    public int Connections => Volatile.Read(ref _connections);

    public async Task<McpClient> ConnectAsync(McpUpstreamServer server, McpClientOptions options, McpUpstreamContext context, CancellationToken ct)
    {
        Interlocked.Increment(ref _connections);
        IClientTransport transport = server.Transport == McpUpstreamTransport.Stdio
            ? new StdioClientTransport(new StdioClientTransportOptions
            {
                Command = server.Command!,
                Arguments = [.. server.Arguments],
                WorkingDirectory = server.WorkingDirectory,
                Name = server.Id,
            })
            : new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = server.Url!,
                Name = server.Id,
                TransportMode = server.Transport == McpUpstreamTransport.Sse ? HttpTransportMode.Sse : HttpTransportMode.AutoDetect,
            });
        return await McpClient.CreateAsync(transport, options, loggers, ct);
    }
}
