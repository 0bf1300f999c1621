using Switchyard.Core.Providers;
using Switchyard.Core.Usage;
using Switchyard.Core.Usage.Pricing;
using Xunit;

namespace Switchyard.Tests.Usage;

/// <summary>The shipped price table (coverage, lookups by the names providers really send) and the price arithmetic, on small inline tables.</summary>
public sealed class PriceTableTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    // Every provider the gateway routes to whose prices the public sources list. (SambaNova, Lambda, Hyperbolic, Nscale, SiliconFlow,
    // GitHub Models and Lemonfox have no figures there: their models are logged with cost null.)
    public static TheoryData<string, string> ProviderSamples => new()
    {
        { "openai", "gpt-4o-mini" }, { "azure-openai", "gpt-35-turbo" }, { "anthropic", "claude-sonnet-4-5" }, { "google", "gemini-2.5-flash" },
        { "vertex-ai", "llama-3.3-70b-instruct-maas" }, { "bedrock", "amazon.nova-lite-v1:0" }, { "bedrock", "meta.llama3-3-70b-instruct-v1:0" },
        { "bedrock", "mistral.mistral-large-2407-v1:0" }, { "bedrock", "amazon.titan-text-express-v1" }, { "groq", "llama-3.3-70b-versatile" },
        { "cerebras", "gpt-oss-120b" }, { "together-ai", "meta-llama/Llama-3.3-70B-Instruct-Turbo" }, { "fireworks-ai", "accounts/fireworks/models/deepseek-v3" },
        { "deepseek", "deepseek-chat" }, { "mistral-ai", "mistral-large-latest" }, { "x-ai", "grok-4" }, { "perplexity-ai", "sonar-pro" },
        { "moonshot", "kimi-k2.5" }, { "dashscope", "qwen-plus" }, { "deepinfra", "openai/gpt-oss-120b" }, { "nebius", "deepseek-ai/DeepSeek-V3.2" },
        { "novita-ai", "deepseek/deepseek-v3.2" }, { "openrouter", "anthropic/claude-sonnet-4.5" }, { "ollama", "llama3.2:3b" },
    };

    [Theory]
    [MemberData(nameof(ProviderSamples))]
    public void Every_provider_routed_to_has_prices(string provider, string model)
    {
        var table = PriceTable.Default;
        Assert.Contains(provider, table.Providers);
        var price = table.Find(provider, model, Now);
        Assert.NotNull(price);
        Assert.Equal("USD", price.Currency);
        Assert.False(string.IsNullOrWhiteSpace(price.Source));
        Assert.True(price.EffectiveDate <= DateOnly.FromDateTime(Now.UtcDateTime));
    }

    [Fact]
    public void The_shipped_table_names_only_real_provider_ids()
    {
        var slugs = ProviderCatalog.OpenAiCompatible.Concat(ProviderCatalog.Translated).Select(p => p.Slug).ToHashSet();
        Assert.True(PriceTable.Default.Count > 200, $"only {PriceTable.Default.Count} models");
        Assert.All(PriceTable.Default.Providers, id => Assert.Contains(id, slugs));
    }

    [Theory]
    // Dated snapshots of a family priced alike reduce to the family; snapshots priced apart have their own entry.
    [InlineData("openai", "gpt-4o-mini-2024-07-18", "openai", "gpt-4o-mini")]
    [InlineData("openai", "gpt-4o-2024-05-13", "openai", "gpt-4o-2024-05-13")]
    [InlineData("openai", "gpt-4.1-2025-04-14", "openai", "gpt-4.1")]
    [InlineData("openai", "GPT-4o", "openai", "gpt-4o")]
    // Azure reports OpenAI's names and falls back to OpenAI's prices, except where Azure prices apart.
    [InlineData("azure-openai", "gpt-4o-2024-08-06", "openai", "gpt-4o-2024-08-06")]
    [InlineData("azure-openai", "gpt-4.1-mini", "openai", "gpt-4.1-mini")]
    [InlineData("azure-openai", "o1-mini", "azure-openai", "o1-mini")]
    // Anthropic aliases, Vertex's claude@date and Bedrock's ids with inference-profile prefixes and versions.
    [InlineData("anthropic", "claude-3-5-sonnet-latest", "anthropic", "claude-3-5-sonnet-20241022")]
    [InlineData("vertex-ai", "claude-sonnet-4@20250514", "anthropic", "claude-sonnet-4-20250514")]
    [InlineData("vertex-ai", "claude-3-5-sonnet-v2@20241022", "anthropic", "claude-3-5-sonnet-20241022")]
    [InlineData("vertex-ai", "gemini-2.5-pro", "google", "gemini-2.5-pro")]
    [InlineData("vertex-ai", "gemini-2.0-flash-001", "vertex-ai", "gemini-2.0-flash")]
    [InlineData("bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic", "claude-3-5-sonnet-20240620")]
    [InlineData("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic", "claude-sonnet-4-5-20250929")]
    [InlineData("bedrock", "global.anthropic.claude-opus-4-6-v1", "anthropic", "claude-opus-4-6-20260205")]
    [InlineData("bedrock", "eu.meta.llama3-2-3b-instruct-v1:0", "bedrock", "meta.llama3-2-3b-instruct-v1:0")]
    // A router's vendor/ prefix, and no provider at all (conditional routing prices by model name alone).
    [InlineData("openrouter", "openai/gpt-4o-mini", "openai", "gpt-4o-mini")]
    [InlineData(null, "claude-haiku-4-5", "anthropic", "claude-haiku-4-5-20251001")]
    [InlineData("some-new-gateway", "gpt-5-mini", "openai", "gpt-5-mini")]
    public void Names_as_providers_send_them_find_their_price(string? provider, string model, string listedProvider, string listedModel)
    {
        var price = PriceTable.Default.Find(provider, model, Now);
        Assert.NotNull(price);
        Assert.Equal(listedProvider, price.Provider);
        Assert.Equal(listedModel, price.Model);
    }

    [Theory]
    [InlineData("openai", "gpt-9-ultra")]
    [InlineData("openai", "meta-llama/Llama-3.1-8B-Instruct")]
    [InlineData("anthropic", "gpt-4o")]
    [InlineData("bedrock", "amazon.unknown-model-v1:0")]
    [InlineData(null, "no-such-model")]
    [InlineData("openai", "")]
    [InlineData("openai", null)]
    public void Unknown_models_have_no_price_and_cost_null(string? provider, string? model)
    {
        Assert.Null(PriceTable.Default.Find(provider, model, Now));
        Assert.Null(PriceTable.Default.Cost(provider, model, new TokenUsage(1000, 100, 1100, 0, 0), Now));
    }

    [Fact]
    public void A_price_applies_from_its_effective_date_and_not_before_the_first()
    {
        // gpt-4o pointed to the 2024-05-13 snapshot until 2024-10-02, then to the cheaper 2024-08-06 one.
        var table = PriceTable.Default;
        var before = table.Find("openai", "gpt-4o", new DateTimeOffset(2024, 10, 1, 23, 59, 59, TimeSpan.Zero))!;
        var after = table.Find("openai", "gpt-4o", new DateTimeOffset(2024, 10, 2, 0, 0, 0, TimeSpan.Zero))!;
        Assert.Equal(new DateOnly(2024, 5, 13), before.EffectiveDate);
        Assert.Equal(new DateOnly(2024, 10, 2), after.EffectiveDate);
        Assert.True(before.Rates.Input > after.Rates.Input);
        Assert.Null(table.Find("openai", "gpt-4o", new DateTimeOffset(2024, 5, 12, 12, 0, 0, TimeSpan.Zero)));
        // The day is the UTC day: 2024-10-02 00:30 in Paris is still 2024-10-01 in UTC.
        Assert.Equal(before, table.Find("openai", "gpt-4o", new DateTimeOffset(2024, 10, 2, 0, 30, 0, TimeSpan.FromHours(2))));

        var inline = PriceTable.Parse("""
            {"format_version": 1, "models": [{"provider": "p", "model": "m", "prices": [
              {"effective_date": "2025-01-01", "input": 1, "output": 2, "source": "s1"},
              {"effective_date": "2025-06-01", "input": 3, "output": 4, "source": "s2"},
              {"effective_date": "2026-01-01", "input": 5, "output": 6, "source": "s3"}]}]}
            """);
        Assert.Equal("s1", inline.Find("p", "m", new DateTimeOffset(2025, 5, 31, 0, 0, 0, TimeSpan.Zero))!.Source);
        Assert.Equal("s2", inline.Find("p", "m", new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero))!.Source);
        Assert.Equal("s3", inline.Find("p", "m", new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero))!.Source);
        Assert.Equal(0.000_007m, inline.Cost("p", "m", new TokenUsage(1, 1, 2, 0, 0), new DateTimeOffset(2025, 7, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    private static readonly PriceTable Rates = PriceTable.Parse("""
        {"format_version": 1, "models": [
          {"provider": "openai", "model": "gpt", "prices": [{"effective_date": "2020-01-01", "input": 2, "output": 8, "cached_input": 0.5, "source": "test"}]},
          {"provider": "anthropic", "model": "claude", "prices": [{"effective_date": "2020-01-01", "input": 3, "output": 15, "cached_input": 0.3, "cache_write": 3.75,
            "tiers": [{"above_prompt_tokens": 200000, "input": 6, "output": 22.5, "cached_input": 0.6, "cache_write": 7.5}], "source": "test"}]},
          {"provider": "google", "model": "gemini", "prices": [{"effective_date": "2020-01-01", "input": 1.25, "output": 10, "cached_input": 0.125,
            "tiers": [{"above_prompt_tokens": 200000, "input": 2.5, "output": 15}], "source": "test"}]},
          {"provider": "dashscope", "model": "qwen", "prices": [{"effective_date": "2020-01-01", "input": 0.4, "output": 1.2, "reasoning": 4, "source": "test"}]},
          {"provider": "x-ai", "model": "grok", "prices": [{"effective_date": "2020-01-01", "input": 3, "output": 15, "cached_input": 0.75, "source": "test"}]},
          {"provider": "free", "model": "*", "prices": [{"effective_date": "2020-01-01", "input": 0, "output": 0, "source": "test"}]}]}
        """);

    [Fact]
    public void OpenAI_cached_tokens_are_part_of_the_prompt_and_reasoning_part_of_the_completion()
    {
        // 10,000 prompt tokens of which 4,000 cached; 3,000 completion tokens of which 2,000 reasoning (charged as output).
        var cost = Rates.Cost("openai", "gpt", new TokenUsage(10_000, 3_000, 13_000, 4_000, 2_000), Now);
        Assert.Equal((6_000 * 2m + 4_000 * 0.5m + 3_000 * 8m) / 1_000_000m, cost);
    }

    [Fact]
    public void Anthropic_cache_reads_and_writes_have_their_own_rates()
    {
        // prompt = 1,000 uncached + 5,000 read + 2,000 written (as the gateway reports Anthropic and Bedrock usage).
        var cost = Rates.Cost("anthropic", "claude", new TokenUsage(8_000, 500, 8_500, 5_000, 0, CacheWriteTokens: 2_000), Now);
        Assert.Equal((1_000 * 3m + 5_000 * 0.3m + 2_000 * 3.75m + 500 * 15m) / 1_000_000m, cost);
    }

    [Fact]
    public void Above_a_tier_the_whole_request_is_charged_at_the_tier_rates()
    {
        var below = Rates.Cost("anthropic", "claude", new TokenUsage(200_000, 1_000, 201_000, 0, 0), Now);
        Assert.Equal((200_000 * 3m + 1_000 * 15m) / 1_000_000m, below);
        var above = Rates.Cost("anthropic", "claude", new TokenUsage(200_001, 1_000, 201_001, 100_000, 0, CacheWriteTokens: 1), Now);
        Assert.Equal((100_000 * 6m + 100_000 * 0.6m + 1 * 7.5m + 1_000 * 22.5m) / 1_000_000m, above);
        // A tier that states no cached rate keeps the base one.
        var gemini = Rates.Cost("google", "gemini", new TokenUsage(300_000, 10, 300_010, 100_000, 0), Now);
        Assert.Equal((200_000 * 2.5m + 100_000 * 0.125m + 10 * 15m) / 1_000_000m, gemini);
    }

    [Fact]
    public void Reasoning_is_charged_once_whether_or_not_the_provider_counts_it_in_the_completion()
    {
        // Gemini as this gateway reports it: thoughts inside completion_tokens (candidates 200 + thoughts 800).
        Assert.Equal((1_000 * 1.25m + 1_000 * 10m) / 1_000_000m, Rates.Cost("google", "gemini", new TokenUsage(1_000, 1_000, 2_000, 0, 800), Now));
        // xAI: reasoning beside the completion, total = prompt + completion + reasoning.
        Assert.Equal((100 * 3m + (10 + 400) * 15m) / 1_000_000m, Rates.Cost("x-ai", "grok", new TokenUsage(100, 10, 510, 0, 400), Now));
        // Reasoning larger than the completion can only be beside it, even without a total.
        Assert.Equal((100 * 3m + (10 + 400) * 15m) / 1_000_000m, Rates.Cost("x-ai", "grok", new TokenUsage(100, 10, 0, 0, 400), Now));
        // A provider that prices thinking apart (DashScope's Qwen): reasoning at its rate, the answer at the output rate.
        Assert.Equal((1_000 * 0.4m + 300 * 1.2m + 700 * 4m) / 1_000_000m, Rates.Cost("dashscope", "qwen", new TokenUsage(1_000, 1_000, 2_000, 0, 700), Now));
    }

    [Fact]
    public void Known_models_with_no_tokens_cost_zero_and_a_free_wildcard_prices_any_model_at_zero()
    {
        Assert.Equal(0m, Rates.Cost("openai", "gpt", default, Now));
        Assert.Equal(0m, Rates.Cost("free", "anything-at-all", new TokenUsage(1_000, 1_000, 2_000, 0, 0), Now));
        Assert.Null(Rates.Cost("openai", "anything-at-all", new TokenUsage(1_000, 1_000, 2_000, 0, 0), Now));
        // Inconsistent counts are clamped rather than charged negative.
        Assert.Equal(10 * 0.5m / 1_000_000m, Rates.Cost("openai", "gpt", new TokenUsage(10, -5, 5, 50, -1), Now));
    }

    [Fact]
    public void The_shipped_table_prices_each_providers_cache_and_reasoning_tokens()
    {
        var table = PriceTable.Default;
        var gpt = table.Find("openai", "gpt-4o", Now)!.Rates;
        Assert.NotNull(gpt.CachedInput);
        Assert.True(gpt.CachedInput < gpt.Input);
        var claude = table.Find("anthropic", "claude-sonnet-4-5", Now)!;
        Assert.True(claude.Rates.CacheWrite > claude.Rates.Input && claude.Rates.CachedInput < claude.Rates.Input);
        Assert.Contains(claude.Tiers, t => t.AbovePromptTokens == 200_000 && t.Rates.Input > claude.Rates.Input);
        Assert.Contains(table.Find("google", "gemini-2.5-pro", Now)!.Tiers, t => t.AbovePromptTokens == 200_000);
        var qwen = table.Find("dashscope", "qwen-plus", Now)!.Rates;
        Assert.True(qwen.Reasoning > qwen.Output);
        Assert.NotNull(table.Find("deepseek", "deepseek-chat", Now)!.Rates.CachedInput);
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("""{"models": []}""", "format_version")]
    [InlineData("""{"format_version": 1, "currency": "EUR", "models": []}""", "only USD")]
    [InlineData("""{"format_version": 1}""", "models: is missing")]
    [InlineData("""{"format_version": 1, "models": [{"provider": "p", "model": "m", "prices": [{"input": 1, "output": 2, "source": "s"}]}]}""",
        "models[0] (p/m).prices[0]: 'effective_date' is missing")]
    [InlineData("""{"format_version": 1, "models": [{"provider": "p", "model": "m", "prices": [{"effective_date": "2025-13-01", "input": 1, "output": 2, "source": "s"}]}]}""",
        "models[0] (p/m).prices[0]: 'effective_date' must be a date")]
    [InlineData("""{"format_version": 1, "models": [{"provider": "p", "model": "ok", "prices": [{"effective_date": "2025-01-01", "input": 1, "output": 2, "source": "s"}]}, {"provider": "p", "model": "m", "prices": [{"effective_date": "2025-01-01", "input": -1, "output": 2, "source": "s"}]}]}""",
        "models[1] (p/m).prices[0]: 'input' is negative")]
    [InlineData("""{"format_version": 1, "models": [{"provider": "p", "model": "m", "prices": [{"effective_date": "2025-01-01", "input": 1, "output": 2, "cahced_input": 0.5, "source": "s"}]}]}""",
        "unknown key 'cahced_input'")]
    [InlineData("""{"format_version": 1, "models": [{"provider": "p", "model": "m", "prices": [{"effective_date": "2025-01-01", "input": 1, "source": "s"}]}]}""",
        "'output' is missing")]
    [InlineData("""{"format_version": 1, "models": [{"provider": "p", "model": "m", "prices": [{"effective_date": "2025-01-01", "input": "1", "output": 2, "source": "s"}]}]}""",
        "'input' must be a number")]
    [InlineData("""{"format_version": 1, "models": [{"provider": "p", "model": "m", "prices": [{"effective_date": "2025-01-01", "input": 1, "output": 2}]}]}""",
        "'source' is missing")]
    [InlineData("""{"format_version": 1, "models": [{"provider": "p", "model": "m", "prices": []}]}""", "models[0] (p/m): 'prices' must be a non-empty array")]
    [InlineData("""{"format_version": 1, "models": [{"provider": "p", "model": "m", "prices": [{"effective_date": "2025-06-01", "input": 1, "output": 2, "source": "s"}, {"effective_date": "2025-01-01", "input": 1, "output": 2, "source": "s"}]}]}""", "oldest first")]
    [InlineData("""{"format_version": 1, "models": [{"provider": "p", "model": "m", "prices": [{"effective_date": "2025-01-01", "input": 1, "output": 2, "source": "s", "tiers": [{"above_prompt_tokens": 0, "input": 2, "output": 3}]}]}]}""", "'above_prompt_tokens' must be a whole number above 0")]
    [InlineData("""{"format_version": 1, "models": [{"provider": "p", "model": "a", "aliases": ["b"], "prices": [{"effective_date": "2025-01-01", "input": 1, "output": 2, "source": "s"}]}, {"provider": "p", "model": "b", "prices": [{"effective_date": "2025-01-01", "input": 1, "output": 2, "source": "s"}]}]}""", "the name 'b' is already used by models[0] (p/a)")]
    [InlineData("""{"format_version": 1, "providers": [{"id": "q", "fallback": ["nowhere"]}], "models": []}""", "fallback 'nowhere' is not a provider")]
    public void Invalid_tables_are_refused_with_the_entry_named(string json, string message)
    {
        var error = Assert.Throws<InvalidDataException>(() => PriceTable.Parse(json, "test.json"));
        Assert.Contains("test.json", error.Message);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void An_override_file_is_laid_over_the_shipped_table()
    {
        var path = Path.Combine(Path.GetTempPath(), $"prices-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """
            {"format_version": 1, "models": [
              {"provider": "openai", "model": "gpt-4o", "prices": [{"effective_date": "2024-01-01", "input": 1.5, "output": 6, "source": "our negotiated rate"}]},
              {"provider": "vllm", "model": "our-llama", "prices": [{"effective_date": "2025-01-01", "input": 0.05, "output": 0.05, "source": "internal GPU cost"}]}]}
            """);
        try
        {
            var options = PricingOptions.FromEnvironment(name => name == "PRICE_TABLE_PATH" ? "  " + path + " " : null);
            Assert.Equal(path, options.TablePath);
            var table = PriceTable.Load(options);
            Assert.Equal(1.5m, table.Find("openai", "gpt-4o", Now)!.Rates.Input);
            Assert.Equal("our negotiated rate", table.Find("azure-openai", "gpt-4o", Now)!.Source);
            Assert.Equal(0.05m, table.Find("vllm", "our-llama", Now)!.Rates.Input);
            // The rest of the shipped table is still there.
            var shipped = PriceTable.Default.Find("anthropic", "claude-sonnet-4-5", Now)!;
            var kept = table.Find("anthropic", "claude-sonnet-4-5", Now)!;
            Assert.Equal((shipped.Model, shipped.Rates, shipped.Source), (kept.Model, kept.Rates, kept.Source));
            Assert.Equal(PriceTable.Default.Count + 1, table.Count);

            File.WriteAllText(path, """
                {"format_version": 1, "replace_default": true, "models": [
                  {"provider": "vllm", "model": "our-llama", "prices": [{"effective_date": "2025-01-01", "input": 0.05, "output": 0.05, "source": "internal GPU cost"}]}]}
                """);
            var only = PriceTable.Load(options);
            Assert.Equal(1, only.Count);
            Assert.Null(only.Find("openai", "gpt-4o", Now));

            File.WriteAllText(path, """{"format_version": 1, "models": [{"provider": "p", "model": "m", "prices": [{"input": 1, "output": 1, "source": "s"}]}]}""");
            var error = Assert.Throws<InvalidDataException>(() => PriceTable.Load(options));
            Assert.Contains(path, error.Message);
            Assert.Contains("effective_date", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Same(PriceTable.Default, PriceTable.Load(PricingOptions.FromEnvironment(_ => null)));
        Assert.ThrowsAny<IOException>(() => PriceTable.Load(new PricingOptions { TablePath = path }));
    }
}
