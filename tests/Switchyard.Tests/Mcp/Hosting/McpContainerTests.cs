using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Mcp.Hosting;

/// <summary>
/// The published build in <c>SERVER_MODE=all</c> under the container's constraints (<see cref="ContainerSandbox"/>: UID 1000,
/// read-only root, only <c>/tmp</c> and <c>/var/tmp</c> writable), with a servers file and a key file mounted read-only like
/// ConfigMaps/Secrets, and Node with server-everything mounted read-only as the stdio upstream (the runtime image has no Node).
/// The sandbox shares the host's loopback network, so the test reaches both ports on 127.0.0.1.
/// </summary>
[Collection(PublishedGateway.Collection)]
public sealed class McpContainerTests(ITestOutputHelper output) : IDisposable
{
    private const string Key = "sk-container-mcp-0123456789";
    private readonly string _mounts = Directory.CreateTempSubdirectory("switchyard-mcp-mounts-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_mounts, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS's temp cleanup.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the sandbox in all mode: AUTH_MODE=keys, the servers file at /opt/mcp-servers, Node and the fixtures at /opt/mcp-fixtures.</summary>
    private async Task<(ContainerSandbox Sandbox, int Port, int McpPort)> StartAsync()
    {
        Assert.True(ContainerSandbox.Available, "bubblewrap (/usr/bin/bwrap) is needed; test.sh installs it");
        McpFixtures.RequireInstalled();
        var servers = Directory.CreateDirectory(Path.Combine(_mounts, "servers")).FullName;
        var keys = Directory.CreateDirectory(Path.Combine(_mounts, "keys")).FullName;
        const string fixtures = "/opt/mcp-fixtures/node_modules";
        await File.WriteAllTextAsync(Path.Combine(servers, "servers.json"), JsonSerializer.Serialize(new
        {
            servers = new Dictionary<string, object>
            {
                ["everything"] = new
                {
                    type = "stdio",
                    command = fixtures + "/node/bin/node",
                    args = new[] { fixtures + "/@modelcontextprotocol/server-everything/dist/index.js", "stdio" },
                },
            },
        }));
        await File.WriteAllTextAsync(Path.Combine(keys, "keys.yaml"),
            $"keys:\n  - name: agents\n    hash: {ApiKeyHash.Format(Key)}\n    scopes: [mcp.invoke]\n");
        var port = FreePort();
        var mcpPort = FreePort();
        var sandbox = await ContainerSandbox.StartAsync(new Dictionary<string, string?>
        {
            ["SERVER_MODE"] = "all",
            ["PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["MCP_PORT"] = mcpPort.ToString(CultureInfo.InvariantCulture),
            ["BIND_ADDRESS"] = "127.0.0.1",
            ["AUTH_MODE"] = "keys",
            ["API_KEYS_PATH"] = "/opt/mcp-keys",
            ["MCP_SERVERS_PATH"] = "/opt/mcp-servers",
        },
        [
            (servers, "/opt/mcp-servers"),
            (keys, "/opt/mcp-keys"),
            // The installed modules (tests/mcp-fixtures/node_modules is a symlink to them).
            (Path.GetFullPath(new DirectoryInfo(McpFixtures.Modules).ResolveLinkTarget(true)?.FullName ?? McpFixtures.Modules), fixtures),
        ]);
        output.WriteLine(string.Join(' ', sandbox.Command));
        return (sandbox, port, mcpPort);
    }

    [Fact]
    public async Task The_published_build_serves_both_gateways_in_all_mode_as_uid_1000_on_a_read_only_root()
    {
        var (sandbox, port, mcpPort) = await StartAsync();
        await using var _ = sandbox;
        try
        {
            using var main = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            using var mcp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{mcpPort}"), Timeout = TimeSpan.FromSeconds(10) };
            await WaitForHealthAsync(main, sandbox);
            foreach (var client in new[] { main, mcp })
            {
                var health = await (await client.GetAsync("/v1/health")).JsonAsync();
                Assert.Equal("success", health.GetProperty("status").GetString());
                Assert.Equal("ready", health.GetProperty("readiness").GetProperty("state").GetString());
                Assert.Equal("all", health.GetProperty("mcp").GetProperty("mode").GetString());
                Assert.Equal(mcpPort, health.GetProperty("mcp").GetProperty("port").GetInt32());
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
            }

            // Each surface on its own port.
            Assert.Equal(HttpStatusCode.NotFound, (await mcp.GetAsync("/v1/models")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await main.SendAsync(McpHostingGateway.Initialize("/everything/mcp"))).StatusCode);

            // Without a key: 401 naming the metadata, which answers.
            var refused = await mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp"));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            var metadata = $"http://127.0.0.1:{mcpPort}/.well-known/oauth-protected-resource/everything/mcp";
            Assert.Equal($"Bearer resource_metadata=\"{metadata}\", scope=\"mcp.invoke\"", refused.Headers.WwwAuthenticate.ToString());
            var prm = await (await mcp.GetAsync(metadata)).JsonAsync();
            Assert.Equal($"http://127.0.0.1:{mcpPort}/everything/mcp", prm.GetProperty("resource").GetString());
            // A foreign Host is refused before anything else.
            Assert.Equal(HttpStatusCode.Forbidden, (await mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Host", "evil.example.com")))).StatusCode);

            Assert.Equal(0, await sandbox.StopAsync(TimeSpan.FromSeconds(30)));
            sandbox.Process.WaitForExit();
            AssertWroteOnlyUnderTmpAndLoggedNoFailure(sandbox);
        }
        finally
        {
            foreach (var line in sandbox.Stderr)
            {
                output.WriteLine("stderr: " + line);
            }
        }
    }

    [Fact]
    public async Task Tools_flow_through_the_mcp_port_to_a_stdio_server_in_the_sandbox()
    {
        var (sandbox, port, mcpPort) = await StartAsync();
        await using var _ = sandbox;
        try
        {
            using var main = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            await WaitForHealthAsync(main, sandbox);
            var transport = new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri($"http://127.0.0.1:{mcpPort}/everything/mcp"),
                AdditionalHeaders = new Dictionary<string, string> { ["x-portkey-api-key"] = Key },
            });
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await using var client = await McpClient.CreateAsync(transport, cancellationToken: cts.Token);
            var tools = await client.ListToolsAsync(cancellationToken: cts.Token);
            Assert.Contains(tools, t => t.Name == "echo");
            var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "from the sandbox" }, cancellationToken: cts.Token);
            Assert.NotEqual(true, result.IsError);
            Assert.Equal("Echo: from the sandbox", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);

            Assert.Equal(0, await sandbox.StopAsync(TimeSpan.FromSeconds(30)));
            sandbox.Process.WaitForExit();
            AssertWroteOnlyUnderTmpAndLoggedNoFailure(sandbox);
        }
        finally
        {
            foreach (var line in sandbox.Stderr)
            {
                output.WriteLine("stderr: " + line);
            }
        }
    }

    private void AssertWroteOnlyUnderTmpAndLoggedNoFailure(ContainerSandbox sandbox)
    {
        foreach (var file in sandbox.WrittenFiles())
        {
            output.WriteLine("written: " + file);
            // bwrap only lets /tmp and /var/tmp be written; nothing may land in /var/tmp.
            Assert.StartsWith("/tmp/", file, StringComparison.Ordinal);
        }
        Assert.Empty(sandbox.Stderr);
        foreach (var line in sandbox.Stdout)
        {
            output.WriteLine(line);
            var level = JsonDocument.Parse(line).RootElement.GetProperty("LogLevel").GetString();
            Assert.True(level is "Information" or "Debug" or "Trace" or "Warning", line);
            Assert.DoesNotContain("read-only", line, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("permission denied", line, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Contains(sandbox.Stdout, l => l.Contains("MCP gateway (SERVER_MODE=all) listening on 127.0.0.1:", StringComparison.Ordinal));
    }

    /// <summary>Polls <c>/v1/health</c> until it answers (the process may take a while to start on a busy machine).</summary>
    private static async Task WaitForHealthAsync(HttpClient http, ContainerSandbox sandbox)
    {
        for (var i = 0; i < 240; i++)
        {
            if (sandbox.Process.HasExited)
            {
                throw new InvalidOperationException($"the sandbox exited with {sandbox.Process.ExitCode}: {string.Join('\n', sandbox.Stderr)}");
            }
            try
            {
                if ((await http.GetAsync("/v1/health")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(250);
        }
        throw new TimeoutException("the gateway in the sandbox did not answer /v1/health within 60 s");
    }
}
