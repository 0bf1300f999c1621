using System.Text.Json.Nodes;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Usage;

/// <summary>Canonical (OpenAI-shaped) usage objects, read and built in one place so every provider counts the same way.</summary>
public static class CanonicalUsage
{
    /// <summary>
    /// Usage for a provider that reports uncached input, cache reads and cache writes separately (Anthropic, Bedrock):
    /// <c>prompt_tokens</c> counts all three (SEAM.md). The Anthropic-named cache fields are added when the provider reported cache activity.
    /// </summary>
    public static JsonObject FromCacheSplit(long uncachedInput, long output, long cacheRead, long cacheWrite, bool cacheReported)
    {
        var prompt = uncachedInput + cacheRead + cacheWrite;
        var result = new JsonObject
        {
            ["prompt_tokens"] = prompt,
            ["completion_tokens"] = output,
            ["total_tokens"] = prompt + output,
            ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = cacheRead },
        };
        if (cacheReported)
        {
            result["cache_read_input_tokens"] = cacheRead;
            result["cache_creation_input_tokens"] = cacheWrite;
        }
        return result;
    }

    public static TokenUsage Read(JsonObject usage)
    {
        var prompt = ChatJson.Long(usage["prompt_tokens"]);
        var completion = ChatJson.Long(usage["completion_tokens"]);
        var total = usage.ContainsKey("total_tokens") ? ChatJson.Long(usage["total_tokens"]) : prompt + completion;
        var cached = ChatJson.Long((usage["prompt_tokens_details"] as JsonObject)?["cached_tokens"]);
        var reasoning = ChatJson.Long((usage["completion_tokens_details"] as JsonObject)?["reasoning_tokens"]);
        return new TokenUsage(prompt, completion, total, cached, reasoning, ChatJson.Long(usage["cache_creation_input_tokens"]));
    }
}
