using System.Diagnostics;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Guardrails.Integration;

/// <summary>The npm <c>portkey-ai</c> SDK sees the <c>hook_results</c> of a 246 answer (tests/node-clients/hooks-check.mjs).</summary>
public sealed class NodeHooksTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Portkey_npm_sdk_exposes_hook_results_of_a_246_answer()
    {
        var clients = Path.Combine(RepoPaths.Root, "tests", "node-clients");
        Assert.True(Directory.Exists(Path.Combine(clients, "node_modules")),
            "node_modules missing: the test command runs `npm ci` in tests/node-clients first (see ./test.sh)");
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = "sk-node" });
        await using var gw = await TestGateway.StartAsync();
        var start = new ProcessStartInfo("node", "hooks-check.mjs")
        {
            WorkingDirectory = clients,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["GATEWAY_URL"] = gw.V1.ToString();
        start.Environment["UPSTREAM_URL"] = sim.BaseUrl.ToString();
        start.Environment["PROVIDER_API_KEY"] = "sk-node";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        output.WriteLine(await stdout);
        output.WriteLine(await stderr);

        var line = JsonDocument.Parse((await stdout).Trim()).RootElement;
        Assert.True(line.GetProperty("ok").GetBoolean(), line.GetRawText());
        Assert.Equal("echo: the secret plan", line.GetProperty("content").GetString());
        var before = line.GetProperty("hook_results").GetProperty("before_request_hooks");
        Assert.Equal("no-secrets", before[0].GetProperty("id").GetString());
        Assert.False(before[0].GetProperty("verdict").GetBoolean());
        Assert.Equal(0, line.GetProperty("hook_results").GetProperty("after_request_hooks").GetArrayLength());
        Assert.Equal(0, process.ExitCode);
        Assert.Single(sim.Requests);
    }
}
