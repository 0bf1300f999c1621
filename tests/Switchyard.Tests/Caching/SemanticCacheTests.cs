using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Caching;
using Switchyard.Simulators;
using Switchyard.Simulators.Embeddings;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Redis;
using Xunit;

namespace Switchyard.Tests.Caching;

/// <summary>Semantic caching through the gateway: paraphrases hit, near-misses and other contexts do not, with either embedder.</summary>
public sealed class SemanticCacheTests
{
    private static string Config(Uri upstream) =>
        $"{{\"cache\":{{\"mode\":\"semantic\"}},\"provider\":\"openai\",\"api_key\":\"sk-sem\",\"custom_host\":\"{upstream}\"}}";

    private static string Chat(string question, string? system = null, JsonArray? tools = null)
    {
        var messages = new JsonArray();
        if (system is not null)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = system });
        }
        messages.Add(new JsonObject { ["role"] = "user", ["content"] = question });
        var body = new JsonObject { ["model"] = "gpt-4o-mini", ["messages"] = messages };
        if (tools is not null)
        {
            body["tools"] = tools;
        }
        return body.ToJsonString();
    }

    private static async Task<(string Status, byte[] Body)> AskAsync(TestGateway gw, string config, string body)
    {
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", body, Requests.Config(config)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response.Header("x-portkey-cache-status"), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_paraphrase_is_a_semantic_hit_and_near_misses_are_not()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Config(sim.BaseUrl);

        var (first, firstBody) = await AskAsync(gw, config, Chat("How do I reverse a list in Python?"));
        var (paraphrase, paraphraseBody) = await AskAsync(gw, config, Chat("how do i reverse a list in python"));
        var (otherLanguage, _) = await AskAsync(gw, config, Chat("How do I reverse a list in JavaScript?"));
        var (otherNumber, _) = await AskAsync(gw, config, Chat("What was the population of Canada in 1990?"));
        var (otherYear, _) = await AskAsync(gw, config, Chat("What was the population of Canada in 1991?"));

        Assert.Equal("SEMANTIC MISS", first);
        Assert.Equal("SEMANTIC HIT", paraphrase);
        Assert.Equal(firstBody, paraphraseBody);
        Assert.Equal("SEMANTIC MISS", otherLanguage);
        Assert.Equal("SEMANTIC MISS", otherNumber);
        Assert.Equal("SEMANTIC MISS", otherYear);
        Assert.Equal(4, sim.Requests.Count);
    }

    [Fact]
    public async Task The_system_prompt_and_the_tools_must_match_exactly()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Config(sim.BaseUrl);
        var tools = new JsonArray(new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = "lookup", ["parameters"] = new JsonObject { ["type"] = "object" } },
        });

        await AskAsync(gw, config, Chat("How do I reverse a list in Python?", system: "You are terse."));
        var (sameSystem, _) = await AskAsync(gw, config, Chat("how do i reverse a list in python", system: "You are terse."));
        var (otherSystem, _) = await AskAsync(gw, config, Chat("how do i reverse a list in python", system: "You are verbose."));
        var (withTools, _) = await AskAsync(gw, config, Chat("how do i reverse a list in python", system: "You are terse.", tools: tools));

        Assert.Equal("SEMANTIC HIT", sameSystem);
        Assert.Equal("SEMANTIC MISS", otherSystem);
        Assert.Equal("SEMANTIC MISS", withTools);
        Assert.Equal(3, sim.Requests.Count);
    }

    [Fact]
    public async Task An_embedding_target_serves_the_semantic_cache_through_the_gateway()
    {
        await using var embeddings = await LocalEmbeddingServer.StartAsync("sk-embed");
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with
        {
            Cache = TestGateway.CacheFromEnvironment(name => name switch
            {
                "SEMANTIC_CACHE_EMBEDDING_PROVIDER" => "openai",
                "SEMANTIC_CACHE_EMBEDDINGS_URL" => embeddings.BaseUrl.ToString(),
                "SEMANTIC_CACHE_EMBEDDING_MODEL" => LocalEmbeddingServer.ModelName,
                "SEMANTIC_CACHE_EMBEDDING_API_KEY" => "sk-embed",
                "SEMANTIC_CACHE_SIMILARITY_THRESHOLD" => "0.92",
                _ => null,
            }),
        });
        var config = Config(sim.BaseUrl);

        var (first, _) = await AskAsync(gw, config, Chat("What is the best way to learn to play the guitar?"));
        var (paraphrase, _) = await AskAsync(gw, config, Chat("What's the best way to learn playing guitar?"));
        var (other, _) = await AskAsync(gw, config, Chat("What is the best way to learn to play the piano?"));

        Assert.Equal("SEMANTIC MISS", first);
        Assert.Equal("SEMANTIC HIT", paraphrase);
        Assert.Equal("SEMANTIC MISS", other);
        Assert.Equal(2, sim.Requests.Count);
        Assert.True(embeddings.RequestCount >= 3);
        var health = (await (await gw.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("cache").GetProperty("semantic");
        Assert.Equal($"openai/{LocalEmbeddingServer.ModelName}", health.GetProperty("embedder").GetString());
        Assert.Equal(0, health.GetProperty("embedding_errors").GetInt64());
    }

    [Fact]
    public async Task An_unreachable_embedding_target_leaves_exact_caching_working()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with
        {
            Cache = TestGateway.CacheFromEnvironment(name => name switch
            {
                "SEMANTIC_CACHE_EMBEDDING_PROVIDER" => "openai",
                "SEMANTIC_CACHE_EMBEDDINGS_URL" => "http://127.0.0.1:1/v1",
                "SEMANTIC_CACHE_EMBEDDING_API_KEY" => "sk-embed",
                _ => null,
            }),
        });
        var config = Config(sim.BaseUrl);

        var (first, _) = await AskAsync(gw, config, Chat("exact only"));
        var (again, _) = await AskAsync(gw, config, Chat("exact only"));

        Assert.Equal("MISS", first);
        Assert.Equal("HIT", again);
        var health = (await (await gw.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("cache").GetProperty("semantic");
        Assert.True(health.GetProperty("embedding_errors").GetInt64() >= 1);
    }

    [Fact]
    public async Task Replicas_share_semantic_entries_through_redis()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        CacheOptions Redis() => TestGateway.CacheFromEnvironment(name => name == "REDIS_URL" ? $"redis://127.0.0.1:{redis.Port}" : null);
        await using var one = await TestGateway.StartAsync(settings: s => s with { Cache = Redis() });
        await using var two = await TestGateway.StartAsync(settings: s => s with { Cache = Redis() });
        var config = Config(sim.BaseUrl);

        await AskAsync(one, config, Chat("How can I make my laptop battery last longer?"));
        var (onTwo, _) = await AskAsync(two, config, Chat("how can I make my laptop battery last longer"));
        await AskAsync(two, config, Chat("Which countries border Switzerland?"));
        var (backOnOne, _) = await AskAsync(one, config, Chat("which countries border switzerland"));

        Assert.Equal("SEMANTIC HIT", onTwo);
        Assert.Equal("SEMANTIC HIT", backOnOne);
        Assert.Equal(2, sim.Requests.Count);
    }

    [Fact]
    public async Task Semantic_entries_expire_with_their_answer_and_a_recreated_list_is_read_again()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var clock = new ManualClock();
        await using var gw = await TestGateway.StartAsync(time: clock);
        var config = $"{{\"cache\":{{\"mode\":\"semantic\",\"max_age\":600}},\"provider\":\"openai\",\"api_key\":\"sk-sem\",\"custom_host\":\"{sim.BaseUrl}\"}}";

        await AskAsync(gw, config, Chat("How do I undo the last git commit?"));
        Assert.Equal("SEMANTIC HIT", (await AskAsync(gw, config, Chat("how do I undo the last git commit"))).Status);
        clock.Advance(TimeSpan.FromSeconds(601));
        // Expired: answer and vector list are gone; asking again stores a new answer in a new list.
        Assert.Equal("SEMANTIC MISS", (await AskAsync(gw, config, Chat("how do I undo the last git commit"))).Status);
        var (after, _) = await AskAsync(gw, config, Chat("How do I undo the last git commit?"));

        Assert.Equal("SEMANTIC HIT", after);
        Assert.Equal(2, sim.Requests.Count);
    }
}
