namespace Switchyard.Core.Usage.Pricing;

/// <summary>Prices in USD per 1,000,000 tokens; a null rate means the provider does not price that kind of token apart.</summary>
/// <param name="Input">Uncached prompt tokens.</param>
/// <param name="Output">Completion tokens.</param>
/// <param name="CachedInput">Prompt tokens read from a prompt cache; null: charged as <paramref name="Input"/>.</param>
/// <param name="CacheWrite">Prompt tokens written to a prompt cache (Anthropic's 5-minute write); null: charged as <paramref name="Input"/>.</param>
/// <param name="Reasoning">Reasoning (thinking) tokens; null: charged as <paramref name="Output"/>.</param>
public readonly record struct PriceRates(decimal Input, decimal Output, decimal? CachedInput = null, decimal? CacheWrite = null, decimal? Reasoning = null);
