using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Usage;
using Switchyard.Core.Usage.Pricing;
using Switchyard.Simulators;
using Switchyard.Simulators.Anthropic;
using Switchyard.Simulators.Azure;
using Switchyard.Simulators.Bedrock;
using Switchyard.Simulators.Google;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Providers.Bedrock;
using Switchyard.Tests.Streaming.Relay;
using Xunit;

namespace Switchyard.Tests.Logs;

/// <summary>Usage and cost in the log: the same for a streamed and a plain call to every provider, estimated when a stream is cut.</summary>
public sealed class UsageAccountingTests
{
    /// <summary>A provider behind its simulator: how to reach it, and which model the price table should find.</summary>
    private sealed record Target(TestGateway Gateway, (string, string)[] Headers, string Model, IAsyncDisposable Simulator) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Simulator.DisposeAsync();
        }
    }

    private static async Task<Target> StartAsync(string provider)
    {
        switch (provider)
        {
            case "openai":
            {
                var sim = await OpenAiSimulator.StartAsync();
                return new Target(await TestGateway.StartAsync(), Requests.HeaderMode(sim.BaseUrl), "gpt-4o-mini", sim);
            }
            case "azure-openai":
            {
                var sim = await AzureOpenAiSimulator.StartAsync();
                var gw = await TestGateway.StartAsync(settings: s => s with { Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["azure-openai"] = sim.BaseTemplate } } });
                return new Target(gw, [("x-portkey-provider", "azure-openai"), ("Authorization", "Bearer azure-key"), ("x-portkey-azure-resource-name", "res"),
                    ("x-portkey-azure-deployment-id", "gpt-4o-mini"), ("x-portkey-azure-api-version", "2024-10-21")], "gpt-4o-mini", sim);
            }
            case "anthropic":
            {
                var sim = await AnthropicSimulator.StartAsync();
                var gw = await TestGateway.StartAsync(settings: s => s with { Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["anthropic"] = sim.BaseUrl.ToString() } } });
                return new Target(gw, [("x-portkey-provider", "anthropic"), ("Authorization", "Bearer sk-ant")], "claude-sonnet-4-5", sim);
            }
            case "bedrock":
            {
                var sim = await BedrockSimulator.StartAsync();
                sim.AddKey(BedrockHarness.KeyId, BedrockHarness.Secret);
                var gw = await TestGateway.StartAsync(settings: s => s with { Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["bedrock"] = sim.BaseUrlTemplate } } });
                return new Target(gw, BedrockHarness.Headers(), BedrockHarness.Model, sim);
            }
            case "google":
            {
                var sim = await GoogleSimulator.StartAsync();
                var gw = await TestGateway.StartAsync(settings: s => s with { Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["google"] = sim.BaseUrl } } });
                return new Target(gw, [("x-portkey-provider", "google"), ("Authorization", "Bearer " + sim.ApiKey)], "gemini-2.5-flash", sim);
            }
            default:
                throw new ArgumentException(provider);
        }
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("azure-openai")]
    [InlineData("anthropic")]
    [InlineData("bedrock")]
    [InlineData("google")]
    public async Task Streamed_and_plain_calls_log_the_same_usage_and_cost(string provider)
    {
        await using var target = await StartAsync(provider);
        var prompt = "count the tokens of this sentence for the ledger please";
        var plain = await target.Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(prompt, target.Model),
            [.. target.Headers, ("x-portkey-trace-id", "plain")]));
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        await plain.Content.ReadAsStringAsync();
        var streamed = await target.Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(prompt, target.Model, stream: true),
            [.. target.Headers, ("x-portkey-trace-id", "streamed")]));
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        await streamed.Content.ReadAsStringAsync();

        var a = await RequestLogTests.RecordAsync(target.Gateway, "plain");
        var b = await RequestLogTests.RecordAsync(target.Gateway, "streamed");
        var ua = a.GetProperty("usage");
        var ub = b.GetProperty("usage");
        Assert.True(ua.GetProperty("prompt_tokens").GetInt64() > 0);
        Assert.True(ua.GetProperty("completion_tokens").GetInt64() > 0);
        foreach (var field in new[] { "prompt_tokens", "completion_tokens", "total_tokens" })
        {
            Assert.Equal(ua.GetProperty(field).GetInt64(), ub.GetProperty(field).GetInt64());
        }
        Assert.Equal("provider", ua.GetProperty("source").GetString());
        Assert.Equal("provider", ub.GetProperty("source").GetString());

        // The cost is the price table's figure for that usage, and the same for both.
        Assert.Equal(JsonValueKind.Number, a.GetProperty("cost").ValueKind);
        var usage = new TokenUsage(ua.GetProperty("prompt_tokens").GetInt64(), ua.GetProperty("completion_tokens").GetInt64(), ua.GetProperty("total_tokens").GetInt64(), 0, 0);
        var expected = PriceTable.Default.Cost(provider, a.GetProperty("response_model").GetString() ?? target.Model, usage, DateTimeOffset.UtcNow);
        Assert.NotNull(expected);
        Assert.Equal(expected!.Value, a.GetProperty("cost").GetDecimal());
        Assert.Equal(a.GetProperty("cost").GetDecimal(), b.GetProperty("cost").GetDecimal());
        Assert.True(a.GetProperty("cost").GetDecimal() > 0);
    }

    [Fact]
    public async Task An_unknown_model_is_logged_with_a_null_cost_not_zero()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("who prices me", "acme-unpriced-model-9"),
            [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-trace-id", "unpriced")]));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var record = await RequestLogTests.RecordAsync(gw, "unpriced");
        Assert.True(record.GetProperty("usage").GetProperty("total_tokens").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Null, record.GetProperty("cost").ValueKind);
    }

    [Theory]
    [InlineData("chat>openai")]
    [InlineData("messages>anthropic")]
    [InlineData("chat>google")]
    public async Task A_stream_the_client_cuts_logs_usage_marked_estimated(string pathName)
    {
        await using var path = await RelayPath.StartAsync(pathName);
        path.StepMode = true;
        var prompt = "please tell me a long story about token ledgers and their keepers";
        var client = await path.OpenAsync(prompt);
        await path.RelayEventByEventAsync(client, prompt, stopAtWords: 3);
        var traceId = client.Response.Headers.GetValues("x-portkey-trace-id").Single();
        // The client goes away mid-stream while the simulator holds its next event back, so the rest never arrives.
        await client.DisposeAsync();

        var record = await RequestLogTests.RecordAsync(path.Gateway, traceId);
        Assert.True(record.TryGetProperty("client_aborted", out var aborted) && aborted.GetBoolean(), record.ToString());
        var usage = record.GetProperty("usage");
        Assert.Equal("estimated", usage.GetProperty("source").GetString());
        Assert.True(usage.GetProperty("prompt_tokens").GetInt64() > 5, usage.ToString());
        // At least the words that reached the client were counted; the whole answer ("echo: " + prompt) never arrived.
        Assert.InRange(usage.GetProperty("completion_tokens").GetInt64(), 2, 12);
    }
}
