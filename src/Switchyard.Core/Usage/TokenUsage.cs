namespace Switchyard.Core.Usage;

/// <summary>Token counts a provider reported for one exchange.</summary>
public readonly record struct TokenUsage(long PromptTokens, long CompletionTokens, long TotalTokens, long CachedPromptTokens, long ReasoningTokens);
