using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Clients;

/// <summary>The npm <c>@anthropic-ai/sdk</c> (Messages) and <c>openai</c> (Responses) SDKs through the gateway, via tests/node-clients/protocol-check.mjs.</summary>
public sealed class NodeProtocolTests(ITestOutputHelper output)
{
    /// <summary>Runs the given cases and returns each case's result line by name.</summary>
    internal static async Task<Dictionary<string, JsonElement>> RunAsync(TestGateway gw, JsonArray cases, ITestOutputHelper output)
    {
        var (stdout, exitCode) = await NodeClients.RunAsync("protocol-check.mjs", new Dictionary<string, string>
        {
            ["GATEWAY_URL"] = gw.BaseUrl.ToString(),
            ["CASES"] = cases.ToJsonString(),
        }, TimeSpan.FromSeconds(120), output, requiredModule: Path.Combine("@anthropic-ai", "sdk"));
        var results = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .Where(l => l.TryGetProperty("name", out _))
            .ToDictionary(l => l.GetProperty("name").GetString()!);
        var failed = results.Values.Where(r => !r.GetProperty("ok").GetBoolean()).Select(r => r.GetRawText()).ToList();
        Assert.True(failed.Count == 0, "failed cases:\n" + string.Join('\n', failed));
        Assert.Equal(cases.Count, results.Count);
        Assert.Equal(0, exitCode);
        return results;
    }

    internal static JsonArray Cases(string prefix, string sdk, string model, string apiKey, JsonObject headers)
    {
        var cases = new JsonArray();
        foreach (var stream in new[] { false, true })
        {
            foreach (var tool in new[] { false, true })
            {
                cases.Add((JsonNode)new JsonObject
                {
                    ["name"] = $"{prefix}-{(stream ? "stream" : "plain")}-{(tool ? "tool" : "text")}",
                    ["sdk"] = sdk,
                    ["model"] = model,
                    ["apiKey"] = apiKey,
                    ["headers"] = headers.DeepClone(),
                    ["stream"] = stream,
                    ["tool"] = tool,
                });
            }
        }
        return cases;
    }

    /// <summary>Text, tool input and usage agree between the streamed and plain runs; streams really streamed tool arguments.</summary>
    internal static void AssertConsistent(Dictionary<string, JsonElement> results, string prefix, string inputTokens, string outputTokens)
    {
        var plainText = results[$"{prefix}-plain-text"];
        var streamText = results[$"{prefix}-stream-text"];
        Assert.False(string.IsNullOrEmpty(plainText.GetProperty("text").GetString()));
        Assert.Equal(plainText.GetProperty("text").GetString(), streamText.GetProperty("text").GetString());
        Assert.Equal(plainText.GetProperty("usage").GetProperty(inputTokens).GetInt32(), streamText.GetProperty("usage").GetProperty(inputTokens).GetInt32());
        Assert.Equal(plainText.GetProperty("usage").GetProperty(outputTokens).GetInt32(), streamText.GetProperty("usage").GetProperty(outputTokens).GetInt32());
        Assert.True(plainText.GetProperty("usage").GetProperty(inputTokens).GetInt32() > 0);

        var plainTool = results[$"{prefix}-plain-tool"];
        var streamTool = results[$"{prefix}-stream-tool"];
        Assert.Equal(JsonValueKind.Object, plainTool.GetProperty("toolInput").ValueKind);
        Assert.Equal(plainTool.GetProperty("toolInput").GetRawText(), streamTool.GetProperty("toolInput").GetRawText());
        Assert.True(streamTool.GetProperty("jsonPieces").GetInt32() >= 1);
        Assert.Equal(plainTool.GetProperty("usage").GetProperty(outputTokens).GetInt32(), streamTool.GetProperty("usage").GetProperty(outputTokens).GetInt32());
    }

    [Fact]
    public async Task Anthropic_npm_sdk_messages_and_openai_npm_responses_work_against_chat_targets()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = "sk-node" });
        await using var gw = await TestGateway.StartAsync();
        var cases = Cases("messages-openai", "anthropic", "gpt-4o-mini", "sk-node",
            new JsonObject { ["x-portkey-provider"] = "openai", ["x-portkey-custom-host"] = sim.BaseUrl.ToString() });
        foreach (var c in Cases("responses-groq", "openai-responses", "llama-3.3-70b", "sk-node",
            new JsonObject { ["x-portkey-provider"] = "groq", ["x-portkey-custom-host"] = sim.BaseUrl.ToString() }))
        {
            cases.Add(c!.DeepClone());
        }
        var results = await RunAsync(gw, cases, output);
        AssertConsistent(results, "messages-openai", "input_tokens", "output_tokens");
        AssertConsistent(results, "responses-groq", "input_tokens", "output_tokens");
        Assert.Equal("tool_use", results["messages-openai-stream-tool"].GetProperty("stopReason").GetString());
        Assert.All(sim.Requests, r => Assert.Equal("/v1/chat/completions", r.Path));
        Assert.Equal(8, sim.Requests.Count);
    }

    [Fact]
    public async Task Anthropic_npm_sdk_messages_and_openai_npm_responses_work_against_bedrock()
    {
        await using var harness = await Providers.Bedrock.BedrockHarness.StartAsync();
        var headers = new JsonObject();
        foreach (var (name, value) in Providers.Bedrock.BedrockHarness.Headers())
        {
            headers[name] = value;
        }
        var cases = Cases("messages-bedrock", "anthropic", Providers.Bedrock.BedrockHarness.Model, "unused-by-bedrock", headers);
        foreach (var c in Cases("responses-bedrock", "openai-responses", Providers.Bedrock.BedrockHarness.Model, "unused-by-bedrock", headers))
        {
            cases.Add(c!.DeepClone());
        }
        var results = await RunAsync(harness.Gateway, cases, output);
        AssertConsistent(results, "messages-bedrock", "input_tokens", "output_tokens");
        AssertConsistent(results, "responses-bedrock", "input_tokens", "output_tokens");
        Assert.Equal("tool_use", results["messages-bedrock-stream-tool"].GetProperty("stopReason").GetString());
        Assert.Equal(8, harness.Sim.Requests.Count(r => r.Path.Contains("/converse", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Openai_npm_responses_work_against_an_anthropic_target()
    {
        await using var sim = await Switchyard.Simulators.Anthropic.AnthropicSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["anthropic"] = sim.BaseUrl.ToString() } } });
        var cases = Cases("responses-anthropic", "openai-responses", "claude-sonnet-4-5", "sk-ant-node", new JsonObject { ["x-portkey-provider"] = "anthropic" });
        var results = await RunAsync(gw, cases, output);
        AssertConsistent(results, "responses-anthropic", "input_tokens", "output_tokens");
        Assert.Equal(4, sim.Requests.Count);
        Assert.All(sim.Requests, r => Assert.Equal("sk-ant-node", r.Headers["x-api-key"]));
    }
}
