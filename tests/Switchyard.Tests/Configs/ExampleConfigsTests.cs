using System.Net;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Configs;

/// <summary>The five example configs in the repository's configs/ directory load cleanly and route.</summary>
public sealed class ExampleConfigsTests
{

    private static async Task<TestGateway> StartWithExamples(OpenAiSimulator? openai = null, OpenAiSimulator? cerebras = null, Switchyard.Simulators.Anthropic.AnthropicSimulator? anthropic = null)
    {
        var files = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "configs")).Where(f => f.EndsWith(".json") || f.EndsWith(".yaml"))
            .ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        var urls = new Dictionary<string, string>();
        if (openai is not null)
        {
            urls["openai"] = openai.BaseUrl.ToString();
        }
        if (cerebras is not null)
        {
            urls["cerebras"] = cerebras.BaseUrl.ToString();
        }
        if (anthropic is not null)
        {
            urls["anthropic"] = anthropic.BaseUrl.ToString();
        }
        return await TestGateway.StartAsync(files, s => s with { ProviderBaseUrls = urls },
            environment: new Dictionary<string, string> { ["OPENAI_API_KEY"] = "sk-openai", ["CEREBRAS_API_KEY"] = "sk-cerebras", ["ANTHROPIC_API_KEY"] = "sk-ant" });
    }

    [Fact]
    public async Task All_five_load_without_problems_and_inline_no_credentials()
    {
        var names = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "configs")).Select(Path.GetFileNameWithoutExtension).Where(n => n != "README").ToHashSet();
        Assert.Equal(new HashSet<string?> { "azure-models", "claude-models", "openai-models", "all-models", "cost-optimized" }, names);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "configs")))
        {
            var text = await File.ReadAllTextAsync(file);
            Assert.DoesNotMatch("\"api_key\"\\s*:\\s*\"(?!\\$\\{)", text);
            Assert.DoesNotMatch("api_key:\\s*(?!\\$\\{)\\S", text);
        }
        await using var gw = await StartWithExamples();
        var store = gw.Engine.NamedConfigs.Current;
        Assert.Empty(store.Problems);
        Assert.Equal(5, store.Configs.Count);
    }

    [Fact]
    public async Task Openai_models_balances_three_models_end_to_end()
    {
        await using var openai = await OpenAiSimulator.StartAsync();
        await using var gw = await StartWithExamples(openai);
        for (var i = 0; i < 60; i++)
        {
            var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "client-choice"), ("x-portkey-config", "openai-models")));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        var models = openai.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("model").GetString()).ToHashSet();
        Assert.Equal(new HashSet<string?> { "gpt-4o", "gpt-4o-mini", "gpt-4.1-mini" }, models);
        Assert.All(openai.Requests, r => Assert.Equal("Bearer sk-openai", r.Headers["Authorization"]));
    }

    [Fact]
    public async Task Cost_optimized_picks_the_plan_by_request_size()
    {
        await using var gw = await StartWithExamples();
        async Task<string> Chosen(string body)
        {
            var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", body, ("x-portkey-config", "cost-optimized")));
            return r.Header("x-portkey-last-used-option-index");
        }
        Assert.Equal("config.targets[0]", await Chosen(Requests.Chat("short question")));
        Assert.Equal("config.targets[1]", await Chosen(Requests.Chat(string.Join(' ', Enumerable.Repeat("context", 3000)))));
        Assert.Equal("config.targets[1]", await Chosen("{\"model\":\"m\",\"max_tokens\":4000,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"));
    }

    [Fact]
    public async Task All_models_falls_back_from_a_failing_first_tier_to_cerebras()
    {
        await using var cerebras = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "cerebras" });
        await using var openai = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "openai" });
        await using var anthropic = await Switchyard.Simulators.Anthropic.AnthropicSimulator.StartAsync();
        await using var gw = await StartWithExamples(openai, cerebras, anthropic);
        openai.FailNext(1000, 503);
        for (var i = 0; i < 200; i++)
        {
            anthropic.Enqueue(Switchyard.Simulators.Anthropic.AnthropicReply.Error(503, "api_error", "unavailable"));
        }
        var reachedCerebras = 0;
        for (var i = 0; i < 40; i++)
        {
            var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "all-models")));
            var path = response.Header("x-portkey-last-used-option-index");
            if (path == "config.targets[1]")
            {
                // OpenAI or Anthropic was picked, failed with 503 after its retries, and the fallback answered.
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("cerebras", response.Header("x-simulator-name"));
                reachedCerebras++;
            }
            else
            {
                // Azure was picked: its adapter comes with provider translation (501, a gateway exception that ends the chain).
                Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
                Assert.Equal("config.targets[0].targets[0]", path);
            }
        }
        // OpenAI carries 30 % of the first tier: 40 tries all missing it has probability 0.7^40 ≈ 6e-7.
        Assert.True(reachedCerebras > 0);
        Assert.Equal(reachedCerebras * 3, openai.Requests.Count + anthropic.Requests.Count);
        Assert.All(cerebras.Requests, r => Assert.Equal("llama-3.3-70b", JsonDocument.Parse(r.Body).RootElement.GetProperty("model").GetString()));
    }
}
