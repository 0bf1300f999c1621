namespace Switchyard.Core.Usage.Pricing;

/// <summary>A long-context tier: a request whose prompt exceeds <paramref name="AbovePromptTokens"/> is charged at <paramref name="Rates"/> throughout.</summary>
/// <remarks>Google (Gemini 2.5 Pro above 200k) and Anthropic (1M-context Sonnet above 200k) price the whole request at the tier's
/// rates, prompt and completion alike, not only the tokens past the threshold.</remarks>
public sealed record PriceTier(long AbovePromptTokens, PriceRates Rates);
