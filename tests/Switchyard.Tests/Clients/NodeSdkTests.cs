using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Clients;

/// <summary>The npm <c>openai</c> and <c>portkey-ai</c> SDKs, driven by tests/node-clients/sdk-check.mjs against the real gateway.</summary>
public sealed class NodeSdkTests(ITestOutputHelper output)
{

    [Fact]
    public async Task Openai_and_portkey_npm_sdks_chat_stream_and_embed_in_every_mode()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = "sk-node" });
        await using var gw = await TestGateway.StartAsync(new Dictionary<string, string>
        {
            ["node-named.json"] = Requests.Target(sim.BaseUrl, "sk-node"),
        });

        var (stdout, exitCode) = await NodeClients.RunAsync("sdk-check.mjs", new Dictionary<string, string>
        {
            ["GATEWAY_URL"] = gw.V1.ToString(),
            ["UPSTREAM_URL"] = sim.BaseUrl.ToString(),
            ["PROVIDER_API_KEY"] = "sk-node",
            ["CONFIG_NAME"] = "node-named",
        }, TimeSpan.FromSeconds(120), output);

        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var cases = lines.Where(l => l.TryGetProperty("sdk", out _)).ToList();
        var failed = cases.Where(c => !c.GetProperty("ok").GetBoolean()).Select(c => c.GetRawText()).ToList();
        Assert.True(failed.Count == 0, "failed cases:\n" + string.Join('\n', failed));
        Assert.Equal(18, cases.Count);
        Assert.Equal(0, exitCode);
        // Both SDKs really went through the gateway to the simulator.
        Assert.True(sim.Requests.Count >= 18);
    }
}
