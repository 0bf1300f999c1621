namespace Switchyard.Core.Usage.Tokens;

/// <summary>The tiktoken encoding used to count a model's tokens, and whether it is the model's own or a stand-in.</summary>
/// <param name="Name"><c>o200k_base</c> or <c>cl100k_base</c>.</param>
/// <param name="IsExact">True for OpenAI models, whose tokenizer this is; false for every other model (Claude, Gemini, Llama, …),
/// whose own tokenizers are not public or not shipped here, so <c>o200k_base</c> stands in as an approximation.</param>
public readonly record struct ModelEncoding(string Name, bool IsExact)
{
    // OpenAI's families on o200k_base (gpt-4o onwards, the o-series, gpt-oss whose o200k_harmony encodes text the same way) and on
    // cl100k_base (gpt-4, gpt-3.5 and the embedding models). Matched as prefixes so dated snapshots (gpt-4o-2024-08-06) and
    // fine-tunes (ft:gpt-4o-mini:…) follow their base model.
    private static readonly string[] O200kPrefixes =
    [
        "gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-oss", "gpt-realtime", "gpt-audio", "gpt-image", "chatgpt-",
        "o1", "o3", "o4", "codex-", "omni-moderation", "computer-use",
    ];

    private static readonly string[] Cl100kPrefixes =
    [
        "gpt-4", "gpt-35", "gpt-3.5", "text-embedding-3", "text-embedding-ada-002", "davinci-002", "babbage-002",
    ];

    /// <summary>The encoding for <paramref name="model"/>; an unknown or absent model gets the <c>o200k_base</c> approximation.</summary>
    public static ModelEncoding For(string? model)
    {
        var name = Normalize(model);
        if (name.Length > 0)
        {
            // o200k first: "gpt-4o" must not fall to the cl100k "gpt-4" prefix.
            foreach (var prefix in O200kPrefixes)
            {
                if (name.StartsWith(prefix, StringComparison.Ordinal)) return new(TiktokenEncodings.O200kBase, true);
            }
            foreach (var prefix in Cl100kPrefixes)
            {
                if (name.StartsWith(prefix, StringComparison.Ordinal)) return new(TiktokenEncodings.Cl100kBase, true);
            }
        }
        return new(TiktokenEncodings.O200kBase, false);
    }

    // "openai/gpt-4o" (OpenRouter and other routers), "ft:gpt-4o-mini-2024-07-18:org::id" (fine-tunes), "openai.gpt-oss-120b-1:0"
    // (Bedrock) and upper case all reduce to the OpenAI name. Other vendors' names never start with an OpenAI family prefix.
    private static string Normalize(string? model)
    {
        if (string.IsNullOrWhiteSpace(model)) return "";
        var name = model.Trim().ToLowerInvariant();
        var slash = name.LastIndexOf('/');
        if (slash >= 0) name = name[(slash + 1)..];
        if (name.StartsWith("ft:", StringComparison.Ordinal)) name = name[3..];
        if (name.StartsWith("openai.", StringComparison.Ordinal)) name = name[7..];
        return name;
    }
}
