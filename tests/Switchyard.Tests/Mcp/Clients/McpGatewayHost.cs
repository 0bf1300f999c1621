using System.Net;
using System.Net.Sockets;
using Switchyard.Core.Security.ApiKeys;

namespace Switchyard.Tests.Mcp.Clients;

/// <summary>
/// The real gateway in-process in <c>SERVER_MODE=mcp</c>, built exactly as a deployment builds it
/// (<c>GatewayApp.Build(ServerOptions.FromEnvironment(env))</c>): the MCP listener on a free loopback port, the main listener on
/// port 0, a temporary data and config directory, and <c>MCP_SERVERS_PATH</c> pointing at a temporary servers file.
/// Optionally <c>AUTH_MODE=keys</c> with one gateway key holding the <c>mcp.invoke</c> scope.
/// </summary>
public sealed class McpGatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private McpGatewayHost(WebApplication app, string directory, int mcpPort, string? apiKey)
    {
        _app = app;
        _directory = directory;
        McpPort = mcpPort;
        ApiKey = apiKey;
        BaseUrl = new Uri($"http://127.0.0.1:{mcpPort}");
        MainUrl = GatewayApp.BoundAddress(app);
    }

    /// <summary><c>http://127.0.0.1:{MCP_PORT}</c>: the MCP listener (routes <c>/{server}/mcp</c>, <c>/{workspace}/{server}/mcp</c>).</summary>
    public Uri BaseUrl { get; }

    /// <summary>The main (AI gateway / health) listener.</summary>
    public Uri MainUrl { get; }

    public int McpPort { get; }

    /// <summary>The gateway key callers send as <c>Authorization: Bearer …</c>; null when the gateway runs without keys.</summary>
    public string? ApiKey { get; }

    /// <summary>The temporary directory holding the servers file (<c>mcp-servers.json</c>), data and configs.</summary>
    public string Directory => _directory;

    /// <summary>The servers file the gateway watches; tests may rewrite it.</summary>
    public string ServersFile => Path.Combine(_directory, "mcp-servers.json");

    public WebApplication App => _app;

    /// <summary>The MCP endpoint of one server: <c>{BaseUrl}/{server}/mcp</c>.</summary>
    public Uri Endpoint(string server) => new(BaseUrl, $"/{server}/mcp");

    /// <summary>
    /// Writes <paramref name="serversJson"/> (the servers file, such as
    /// <c>{"servers":{"everything":{"url":"http://127.0.0.1:N/mcp","type":"http"}}}</c>) and starts the gateway.
    /// <paramref name="apiKey"/> turns on <c>AUTH_MODE=keys</c> with that key (scope <c>mcp.invoke</c>); <paramref name="environment"/>
    /// adds or overrides variables. Throws what start-up throws (a <see cref="FormatException"/> naming the variable for bad settings).
    /// </summary>
    public static async Task<McpGatewayHost> StartAsync(string serversJson, string? apiKey = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("switchyard-mcp-gateway-").FullName;
        try
        {
            var servers = Path.Combine(directory, "mcp-servers.json");
            await File.WriteAllTextAsync(servers, serversJson);
            var configs = System.IO.Directory.CreateDirectory(Path.Combine(directory, "configs")).FullName;
            var data = System.IO.Directory.CreateDirectory(Path.Combine(directory, "data")).FullName;
            var mcpPort = FreeLoopbackPort();
            var env = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["SERVER_MODE"] = "mcp",
                ["MCP_PORT"] = mcpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["PORT"] = "0",
                ["BIND_ADDRESS"] = "127.0.0.1",
                ["MCP_SERVERS_PATH"] = servers,
                ["CONFIG_DIR"] = configs,
                ["DATA_PATH"] = data,
                ["LOG_LEVEL"] = "warn",
                ["SHUTDOWN_GRACE_SECONDS"] = "2",
            };
            if (apiKey is not null)
            {
                var keys = System.IO.Directory.CreateDirectory(Path.Combine(directory, "keys")).FullName;
                await File.WriteAllTextAsync(Path.Combine(keys, "keys.yaml"),
                    $"keys:\n  - name: mcp-test\n    hash: {ApiKeyHash.Format(apiKey)}\n    scopes: [mcp.invoke]\n");
                env["AUTH_MODE"] = "keys";
                env["API_KEYS_PATH"] = keys;
            }
            foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            {
                env[name] = value;
            }
            var options = ServerOptions.FromEnvironment(name => env.TryGetValue(name, out var value) ? value : null);
            var app = GatewayApp.Build(options);
            try
            {
                await app.StartAsync();
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }
            return new McpGatewayHost(app, directory, mcpPort, apiKey);
        }
        catch
        {
            TryDelete(directory);
            throw;
        }
    }

    /// <summary>A port that was free on 127.0.0.1 a moment ago (bound to port 0, read, released).</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>The servers file for one Streamable HTTP upstream: <c>{"servers":{"name":{"url":url,"type":"http"}}}</c>.</summary>
    public static string HttpServer(string name, Uri url) =>
        System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["servers"] = new Dictionary<string, object> { [name] = new Dictionary<string, string> { ["url"] = url.ToString(), ["type"] = "http" } },
        });

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            await _app.DisposeAsync();
            TryDelete(_directory);
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS's temp cleanup.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
