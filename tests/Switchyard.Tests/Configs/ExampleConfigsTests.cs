using System.Net;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Simulators.Anthropic;
using Switchyard.Simulators.Azure;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Configs;

/// <summary>The five example configs in the repository's configs/ directory load cleanly and route.</summary>
public sealed class ExampleConfigsTests
{

    private static async Task<TestGateway> StartWithExamples(OpenAiSimulator? openai = null, OpenAiSimulator? cerebras = null,
        AnthropicSimulator? anthropic = null, AzureOpenAiSimulator? azure = null, string? redisUrl = null)
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
        if (azure is not null)
        {
            urls["azure-openai"] = azure.BaseTemplate;
        }
        return await TestGateway.StartAsync(files, s => s with
            {
                Upstream = s.Upstream with { BaseUrls = urls },
                Cache = redisUrl is null ? s.Cache : TestGateway.CacheFromEnvironment(n => n == "REDIS_URL" ? redisUrl : null),
            },
            environment: new Dictionary<string, string>
            {
                ["OPENAI_API_KEY"] = "sk-openai",
                ["CEREBRAS_API_KEY"] = "sk-cerebras",
                ["ANTHROPIC_API_KEY"] = "sk-ant-config",
                ["AZURE_OPENAI_API_KEY"] = azure?.ApiKey ?? "azure-key",
                ["AZURE_OPENAI_RESOURCE_NAME"] = "contoso",
            });
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
        await using var azure = await AzureOpenAiSimulator.StartAsync();
        await using var gw = await StartWithExamples(azure: azure);
        async Task<string> Chosen(string body)
        {
            var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", body, ("x-portkey-config", "cost-optimized")));
            return r.Header("x-portkey-last-used-option-index");
        }
        Assert.Equal("config.targets[0]", await Chosen(Requests.Chat("short question")));
        // " context" is one token: 4,500 of them are over the 4,000-token line, 3,900 are not (though their 31 KB were "7,800 tokens" at bytes / 4).
        Assert.Equal("config.targets[1]", await Chosen(Requests.Chat(string.Join(' ', Enumerable.Repeat("context", 4500)))));
        Assert.Equal("config.targets[0]", await Chosen(Requests.Chat(string.Join(' ', Enumerable.Repeat("context", 3900)))));
        // An inline image is bytes, not prompt tokens.
        var image = "data:image/png;base64," + Convert.ToBase64String(new byte[30_000]);
        Assert.Equal("config.targets[0]", await Chosen(JsonSerializer.Serialize(new
        {
            model = "gpt-4o",
            messages = new[] { new { role = "user", content = new object[] { new { type = "text", text = "what is this?" }, new { type = "image_url", image_url = new { url = image } } } } },
        })));
        Assert.Equal("config.targets[1]", await Chosen("{\"model\":\"m\",\"max_tokens\":4000,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"));
        // A long answer allowed of gpt-4o: 60,000 tokens at its output price is over $0.50, so the budget plan takes it.
        Assert.Equal("config.targets[0]", await Chosen("{\"model\":\"gpt-4o\",\"max_tokens\":60000,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"));
        Assert.Equal("config.targets[1]", await Chosen("{\"model\":\"gpt-4o\",\"max_tokens\":30000,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"));
    }

    [Fact]
    public async Task All_models_falls_back_from_a_failing_first_tier_to_cerebras()
    {
        await using var cerebras = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "cerebras" });
        await using var openai = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "openai" });
        await using var anthropic = await AnthropicSimulator.StartAsync();
        await using var azure = await AzureOpenAiSimulator.StartAsync();
        await using var gw = await StartWithExamples(openai, cerebras, anthropic, azure);
        openai.FailNext(1000, 503);
        for (var i = 0; i < 200; i++)
        {
            anthropic.Enqueue(AnthropicReply.Error(503, "api_error", "unavailable"));
            azure.FailNext(503, AzureOpenAiSimulator.Error("ServiceUnavailable", "busy"));
        }
        for (var i = 0; i < 30; i++)
        {
            // A different question each time: all-models caches answers, and a cached one would skip the upstream.
            var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat($"question number {i}"), ("x-portkey-config", "all-models")));
            // Whichever first-tier provider was picked failed with 503 after its retries, and the fallback answered.
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("config.targets[1]", response.Header("x-portkey-last-used-option-index"));
            Assert.Equal("cerebras", response.Header("x-simulator-name"));
        }
        // Each first-tier attempt is retried twice: three upstream calls per request.
        Assert.Equal(90, openai.Requests.Count + anthropic.Requests.Count + azure.Requests.Count);
        Assert.Equal(30, cerebras.Requests.Count);
        Assert.All(cerebras.Requests, r => Assert.Equal("llama-3.3-70b", JsonDocument.Parse(r.Body).RootElement.GetProperty("model").GetString()));
    }

    [Fact]
    public async Task All_models_serves_from_azure_anthropic_and_openai_end_to_end()
    {
        await using var cerebras = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "cerebras" });
        await using var openai = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "openai" });
        await using var anthropic = await AnthropicSimulator.StartAsync();
        await using var azure = await AzureOpenAiSimulator.StartAsync();
        await using var gw = await StartWithExamples(openai, cerebras, anthropic, azure);
        var usedBy = new Dictionary<string, int>();
        for (var i = 0; i < 40; i++)
        {
            var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("ping " + i, stream: i % 2 == 0, includeUsage: true),
                ("x-portkey-config", "all-models")));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Contains("\"usage\"", text);
            var provider = response.Header("x-portkey-provider");
            usedBy[provider] = usedBy.GetValueOrDefault(provider) + 1;
        }
        Assert.Equal(new HashSet<string> { "azure-openai", "anthropic", "openai" }, usedBy.Keys.ToHashSet());
        Assert.Empty(cerebras.Requests);
        var claude = JsonDocument.Parse(anthropic.Requests[0].Body).RootElement;
        Assert.Equal("claude-sonnet-4-5", claude.GetProperty("model").GetString());
        Assert.Equal(4096, claude.GetProperty("max_tokens").GetInt32());
        Assert.Equal("sk-ant-config", anthropic.Requests[0].Headers["x-api-key"]);
        Assert.All(azure.Requests, r => Assert.StartsWith("/contoso/openai/deployments/gpt-4o/chat/completions", r.Path));
    }

    [Fact]
    public async Task Claude_models_balances_three_claude_models_end_to_end()
    {
        await using var anthropic = await AnthropicSimulator.StartAsync();
        await using var gw = await StartWithExamples(anthropic: anthropic);
        for (var i = 0; i < 40; i++)
        {
            var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("hello claude"), ("x-portkey-config", "claude-models")));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("chat.completion", (await response.JsonAsync()).GetProperty("object").GetString());
        }
        var sent = anthropic.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(new HashSet<string?> { "claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1" }, sent.Select(b => b.GetProperty("model").GetString()).ToHashSet());
        Assert.All(sent.Where(b => b.GetProperty("model").GetString() == "claude-haiku-4-5"), b => Assert.Equal(4096, b.GetProperty("max_tokens").GetInt32()));
        Assert.All(sent.Where(b => b.GetProperty("model").GetString() != "claude-haiku-4-5"), b => Assert.Equal(8192, b.GetProperty("max_tokens").GetInt32()));
    }

    [Fact]
    public async Task All_models_runs_with_semantic_caching_against_redis()
    {
        await using var redis = await Switchyard.Tests.Redis.RedisServer.StartAsync();
        await using var cerebras = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "cerebras" });
        await using var openai = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "openai" });
        await using var anthropic = await AnthropicSimulator.StartAsync();
        await using var azure = await AzureOpenAiSimulator.StartAsync();
        await using var gw = await StartWithExamples(openai, cerebras, anthropic, azure, redisUrl: $"redis://127.0.0.1:{redis.Port}");
        int Upstream() => openai.Requests.Count + anthropic.Requests.Count + azure.Requests.Count + cerebras.Requests.Count;

        // Answers are cached per target (provider, deployment, credential): ask until each of the three balanced targets has answered once.
        var answeredBy = new HashSet<string>();
        for (var i = 0; i < 60 && answeredBy.Count < 3; i++)
        {
            var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("What is the difference between a process and a thread?"), ("x-portkey-config", "all-models")));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var status = r.Header("x-portkey-cache-status");
            Assert.Contains(status, new[] { "SEMANTIC MISS", "HIT" });
            if (status == "SEMANTIC MISS")
            {
                Assert.True(answeredBy.Add(r.Header("x-portkey-provider")));
            }
        }
        Assert.Equal(new HashSet<string> { "azure-openai", "anthropic", "openai" }, answeredBy);
        Assert.Equal(3, Upstream());

        // The same question worded differently is answered from Redis by whichever target the balancer picks.
        var paraphrases = new[] { "what is the difference between a process and a thread", "What is the difference between a thread and a process?" };
        for (var i = 0; i < 10; i++)
        {
            var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(paraphrases[i % 2]), ("x-portkey-config", "all-models")));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("SEMANTIC HIT", r.Header("x-portkey-cache-status"));
            Assert.Equal("chat.completion", (await r.JsonAsync()).GetProperty("object").GetString());
        }
        Assert.Equal(3, Upstream());
        var admin = new Switchyard.Tests.Redis.RedisCli(redis.Port);
        var entries = await admin.ItemsAsync("KEYS", "switchyard:resp:*");
        Assert.Equal(3, entries.Length);
        Assert.Equal(3, (await admin.ItemsAsync("KEYS", "switchyard:sem:*")).Length);
        Assert.True(await admin.IntegerAsync("TTL", entries[0]) is > 3500 and <= 3600);
    }
}
