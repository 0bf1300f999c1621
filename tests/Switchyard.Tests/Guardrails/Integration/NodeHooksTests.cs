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
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = "sk-node" });
        await using var gw = await TestGateway.StartAsync();
        var (stdout, exitCode) = await NodeClients.RunAsync("hooks-check.mjs", new Dictionary<string, string>
        {
            ["GATEWAY_URL"] = gw.V1.ToString(),
            ["UPSTREAM_URL"] = sim.BaseUrl.ToString(),
            ["PROVIDER_API_KEY"] = "sk-node",
        }, TimeSpan.FromSeconds(60), output);

        var line = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.True(line.GetProperty("ok").GetBoolean(), line.GetRawText());
        Assert.Equal("echo: the secret plan", line.GetProperty("content").GetString());
        var before = line.GetProperty("hook_results").GetProperty("before_request_hooks");
        Assert.Equal("no-secrets", before[0].GetProperty("id").GetString());
        Assert.False(before[0].GetProperty("verdict").GetBoolean());
        Assert.Equal(0, line.GetProperty("hook_results").GetProperty("after_request_hooks").GetArrayLength());
        Assert.Equal(0, exitCode);
        Assert.Single(sim.Requests);
    }
}
