namespace Switchyard.Core.Usage.Pricing;

/// <summary>One model's price as in force from <see cref="EffectiveDate"/> until the next dated price of the same model.</summary>
public sealed record ModelPrice
{
    private const decimal TokensPerUnit = 1_000_000m;

    /// <summary>The provider id the price was listed under (<c>openai</c>, <c>bedrock</c>, …).</summary>
    public required string Provider { get; init; }

    /// <summary>The model name the price was listed under (the table entry's <c>model</c>, not the alias that found it).</summary>
    public required string Model { get; init; }

    /// <summary>The first UTC day the price applies.</summary>
    public required DateOnly EffectiveDate { get; init; }

    /// <summary>Rates for a prompt at or below every tier's threshold.</summary>
    public required PriceRates Rates { get; init; }

    /// <summary>Long-context tiers, by ascending threshold; empty for most models.</summary>
    public IReadOnlyList<PriceTier> Tiers { get; init; } = [];

    /// <summary>Where the figures come from.</summary>
    public required string Source { get; init; }

    public string Currency { get; init; } = "USD";

    /// <summary>The rates that apply to a request with <paramref name="promptTokens"/> prompt tokens (cache reads and writes included).</summary>
    public PriceRates RatesFor(long promptTokens)
    {
        var rates = Rates;
        foreach (var tier in Tiers)
        {
            if (promptTokens > tier.AbovePromptTokens) rates = tier.Rates;
        }
        return rates;
    }

    /// <summary>The cost in USD of one exchange with <paramref name="usage"/>.</summary>
    /// <remarks>
    /// Prompt tokens are split into uncached input, cache reads and cache writes, each at its own rate. Reasoning tokens are part of
    /// the completion tokens for OpenAI, Anthropic, Bedrock and (as this gateway reports them) Gemini; xAI reports them beside the
    /// completion instead (its total is prompt + completion + reasoning), which is recognised from the numbers, so they are charged once
    /// either way, at the reasoning rate where a provider has one.
    /// </remarks>
    public decimal Cost(TokenUsage usage)
    {
        var prompt = Math.Max(0, usage.PromptTokens);
        var cached = Math.Clamp(usage.CachedPromptTokens, 0, prompt);
        var written = Math.Clamp(usage.CacheWriteTokens, 0, prompt - cached);
        var uncached = prompt - cached - written;
        var completion = Math.Max(0, usage.CompletionTokens);
        var reasoning = Math.Max(0, usage.ReasoningTokens);
        var reasoningBeside = reasoning > 0 && (reasoning > completion || usage.TotalTokens == prompt + completion + reasoning);
        var visible = reasoningBeside ? completion : completion - reasoning;

        var rates = RatesFor(prompt);
        var total = uncached * rates.Input
            + cached * (rates.CachedInput ?? rates.Input)
            + written * (rates.CacheWrite ?? rates.Input)
            + visible * rates.Output
            + reasoning * (rates.Reasoning ?? rates.Output);
        return total / TokensPerUnit;
    }

    /// <summary>The expected cost of a request before it is sent: every prompt token uncached, <paramref name="outputTokens"/> at the output rate.</summary>
    public decimal Estimate(long promptTokens, long outputTokens)
    {
        var rates = RatesFor(promptTokens);
        return (Math.Max(0, promptTokens) * rates.Input + Math.Max(0, outputTokens) * rates.Output) / TokensPerUnit;
    }
}
