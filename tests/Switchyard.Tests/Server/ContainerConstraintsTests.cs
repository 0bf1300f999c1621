using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Server;

/// <summary>
/// The container image's constraints, reproduced with bubblewrap from <c>deploy/docker/Dockerfile</c> itself (see
/// <see cref="ContainerSandbox"/>): UID/GID 1000, a read-only root, only <c>/tmp</c> and <c>/var/tmp</c> writable, the
/// image's environment and entrypoint. What Kubernetes' restricted profile and <c>readOnlyRootFilesystem</c> impose.
/// </summary>
[Collection(PublishedGateway.Collection)]
public sealed class ContainerConstraintsTests(ITestOutputHelper output)
{
    /// <summary>The modes that serve the AI gateway on PORT (SERVER_MODE=all under these constraints, with MCP, is <c>Mcp.Hosting.McpContainerTests</c>).</summary>
    public static TheoryData<string> ImplementedModes => new(ServerModes.Implemented.Where(m => ServerModes.Parse(m).ServesAi()));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public void The_Dockerfile_publishes_the_shipped_build_and_runs_it_unprivileged_from_a_read_only_app()
    {
        var dockerfile = Dockerfile.Load();
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0", dockerfile.Named("build").Image);
        Assert.Equal("mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled", dockerfile.Runtime.Image);
        var publish = dockerfile.PublishCommand();
        Assert.Equal(["publish", "src/Switchyard.Gateway", "-c", "Release", "-r", "linux-x64"], publish.Take(6));
        Assert.Equal("linux-arm64", Dockerfile.OptionValue(dockerfile.PublishCommand(new Dictionary<string, string> { ["RID"] = "linux-arm64" }), "-r"));
        // Self-contained, trimmed and ReadyToRun come from the project for any RID; the publish line must not turn them off.
        Assert.DoesNotContain(publish, a => a.Contains("ReadyToRun=false", StringComparison.OrdinalIgnoreCase) || a.Contains("SelfContained=false", StringComparison.OrdinalIgnoreCase));

        Assert.Equal((1000, 1000), dockerfile.User);
        Assert.Equal("/app", dockerfile.WorkDir);
        Assert.Equal(["/app/Switchyard.Gateway"], dockerfile.Entrypoint);
        Assert.Equal([8787, 8788], dockerfile.Exposed);
        Assert.Contains(dockerfile.Copies, c => c.FromStage is null && c.Sources.SequenceEqual(["configs/"]) && c.Destination == "/app/configs/");
        var env = dockerfile.ContainerEnvironment();
        Assert.Equal("/tmp/switchyard", env["DATA_PATH"]);
        Assert.Equal("/app/configs", env["CONFIG_DIR"]);
        Assert.Equal("/tmp", env["TMPDIR"]);
        Assert.Equal("", env["ASPNETCORE_HTTP_PORTS"]);
        Assert.DoesNotContain(dockerfile.Runtime.Instructions, i => i.Keyword is "RUN" or "HEALTHCHECK" or "SHELL");
    }

    [Theory]
    [MemberData(nameof(ImplementedModes))]
    public async Task The_image_serves_as_uid_1000_on_a_read_only_root_and_writes_only_under_tmp(string mode)
    {
        Assert.True(ContainerSandbox.Available, "bubblewrap (/usr/bin/bwrap) is needed; test.sh installs it");
        await using var sim = await OpenAiSimulator.StartAsync();
        var port = FreePort();
        await using var sandbox = await ContainerSandbox.StartAsync(new Dictionary<string, string?>
        {
            ["SERVER_MODE"] = mode,
            ["PORT"] = port.ToString(CultureInfo.InvariantCulture),
            // In all mode the MCP listener binds too: a free port, not the default 8788 another run may hold.
            ["MCP_PORT"] = mode == "all" ? FreePort().ToString(CultureInfo.InvariantCulture) : null,
            ["BIND_ADDRESS"] = "127.0.0.1",
            ["OPENAI_API_KEY"] = "sk-container",
            ["PROVIDER_BASE_URLS"] = "openai=" + sim.BaseUrl,
        });
        output.WriteLine(string.Join(' ', sandbox.Command));
        output.WriteLine($"{PublishedGateway.Command}: {PublishedGateway.PublishTime.TotalSeconds:F0} s");
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            var health = await WaitForHealthAsync(http, sandbox);
            Assert.Equal("success", health.GetProperty("status").GetString());
            Assert.Equal("ready", health.GetProperty("readiness").GetProperty("state").GetString());
            var store = health.GetProperty("config_store");
            Assert.Equal("/app/configs", store.GetProperty("directory").GetString());
            Assert.Equal(5, store.GetProperty("configs").GetArrayLength());

            var ready = await http.GetAsync("/v1/health/ready");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("ready", (await ready.JsonAsync()).GetProperty("status").GetString());

            var chat = await http.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("from the container"), ("x-portkey-config", "openai-models")));
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
            Assert.Equal("Bearer sk-container", Assert.Single(sim.Requests).Headers["Authorization"]);

            // The request log lands under DATA_PATH=/tmp/switchyard (the image's default), i.e. in the writable /tmp.
            var logs = Path.Combine(sandbox.HostTmp, "switchyard", "logs");
            string[] lines = [];
            for (var i = 0; i < 120 && lines.Length == 0; i++)
            {
                lines = Directory.Exists(logs) ? Directory.EnumerateFiles(logs, "requests-*.jsonl").SelectMany(File.ReadAllLines).ToArray() : [];
                if (lines.Length == 0)
                {
                    await Task.Delay(250);
                }
            }
            var record = JsonDocument.Parse(Assert.Single(lines)).RootElement;
            Assert.Equal("openai-models.json", record.GetProperty("config_name").GetString());

            Assert.Equal(0, await sandbox.StopAsync(TimeSpan.FromSeconds(30)));
            sandbox.Process.WaitForExit();

            var written = sandbox.WrittenFiles();
            output.WriteLine("written under /tmp and /var/tmp:");
            foreach (var file in written)
            {
                output.WriteLine("  " + file);
            }
            // The request log, and .NET's own diagnostics endpoints in TMPDIR; nothing in /var/tmp, no probe file left.
            Assert.All(written, f => Assert.True(
                f.StartsWith("/tmp/switchyard/logs/requests-", StringComparison.Ordinal) && f.EndsWith(".jsonl", StringComparison.Ordinal)
                || IsRuntimeDiagnostics(f),
                $"unexpected file written: {f}"));
            Assert.Contains(written, f => f.StartsWith("/tmp/switchyard/logs/requests-", StringComparison.Ordinal));

            // Nothing tried to write elsewhere and failed: the root is read-only, so a write would show as an error here.
            Assert.Empty(sandbox.Stderr);
            var stdout = sandbox.Stdout;
            Assert.NotEmpty(stdout);
            foreach (var line in stdout)
            {
                var entry = JsonDocument.Parse(line).RootElement;
                var level = entry.GetProperty("LogLevel").GetString();
                Assert.True(level is "Information" or "Debug" or "Trace" or "Warning", line);
                Assert.DoesNotContain("read-only", line, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("permission denied", line, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("UnauthorizedAccess", line, StringComparison.Ordinal);
                if (level == "Warning")
                {
                    // The example configs name provider keys this test does not set; that is the only warning expected.
                    Assert.Contains("refers to unset variables", line, StringComparison.Ordinal);
                }
            }
        }
        finally
        {
            foreach (var line in sandbox.Stderr)
            {
                output.WriteLine("stderr: " + line);
            }
        }
    }

    [Theory]
    [InlineData("bogus", "SERVER_MODE=bogus is not valid")]
    [InlineData("gateway", "SERVER_MODE=gateway is not valid")]
    public async Task A_server_mode_this_build_cannot_run_is_refused_at_start_up(string mode, string message)
    {
        await using var sandbox = await ContainerSandbox.StartAsync(new Dictionary<string, string?>
        {
            ["SERVER_MODE"] = mode,
            ["PORT"] = FreePort().ToString(CultureInfo.InvariantCulture),
        });
        Assert.Equal(2, await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var stderr = string.Join('\n', sandbox.Stderr);
        output.WriteLine(stderr);
        Assert.StartsWith("switchyard: " + message, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_path_on_the_read_only_root_is_refused_naming_it_without_a_stack_trace()
    {
        await using var sandbox = await ContainerSandbox.StartAsync(new Dictionary<string, string?>
        {
            ["DATA_PATH"] = "/app/data",
            ["PORT"] = FreePort().ToString(CultureInfo.InvariantCulture),
        });
        Assert.Equal(2, await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var stderr = string.Join('\n', sandbox.Stderr);
        output.WriteLine(stderr);
        Assert.Equal(
            "switchyard: LOG_STORE_LOCAL_PATH=/app/data/logs, the default under DATA_PATH=/app/data, cannot be written (read-only file system): "
            + "point DATA_PATH, or LOG_STORE_LOCAL_PATH, at a writable directory such as /tmp or a mounted volume.", stderr);
        Assert.DoesNotContain(sandbox.WrittenFiles(), f => !IsRuntimeDiagnostics(f));
    }

    /// <summary>
    /// What the .NET runtime itself creates in TMPDIR while diagnostics are on (DOTNET_EnableDiagnostics, default 1): the
    /// diagnostics IPC socket (dotnet-counters, dotnet-trace) and the debugger's two FIFOs.
    /// </summary>
    private static bool IsRuntimeDiagnostics(string file) =>
        file.StartsWith("/tmp/dotnet-diagnostic-", StringComparison.Ordinal) || file.StartsWith("/tmp/clr-debug-pipe-", StringComparison.Ordinal);

    /// <summary>Polls <c>/v1/health</c> until it answers (the process may take a while to start on a busy machine).</summary>
    private static async Task<JsonElement> WaitForHealthAsync(HttpClient http, ContainerSandbox sandbox)
    {
        for (var i = 0; i < 240; i++)
        {
            if (sandbox.Process.HasExited)
            {
                throw new InvalidOperationException($"the sandbox exited with {sandbox.Process.ExitCode}: {string.Join('\n', sandbox.Stderr)}");
            }
            try
            {
                return await (await http.GetAsync("/v1/health")).JsonAsync();
            }
            catch (HttpRequestException)
            {
                await Task.Delay(250);
            }
        }
        throw new TimeoutException("the gateway in the sandbox did not answer /v1/health within 60 s");
    }
}
