namespace Switchyard.Core.Usage;

/// <summary>Token counts a provider reported for one exchange, in OpenAI semantics: <see cref="PromptTokens"/> counts every input token,
/// including those read from (<see cref="CachedPromptTokens"/>) or written to (<see cref="CacheWriteTokens"/>) a prompt cache.</summary>
public readonly record struct TokenUsage(long PromptTokens, long CompletionTokens, long TotalTokens, long CachedPromptTokens, long ReasoningTokens, long CacheWriteTokens = 0);
