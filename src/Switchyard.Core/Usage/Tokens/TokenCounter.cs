using System.Text.Json;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Usage.Tokens;

/// <summary>Counts tokens with OpenAI's tiktoken encodings: exactly for OpenAI models, as an approximation for every other model.</summary>
/// <remarks>
/// Thread-safe. Each encoding's vocabulary (a few MB) is loaded on first use, which takes about half a second; call
/// <see cref="Preload"/> at start-up to move that off the first request that needs a count. Special-token strings in text
/// (<c>&lt;|endoftext|&gt;</c>) are counted as ordinary text, as providers encode message content.
/// </remarks>
public static class TokenCounter
{
    /// <summary>The encoding that counts <paramref name="model"/>'s tokens: <c>"o200k_base"</c> or <c>"cl100k_base"</c>.</summary>
    public static string EncodingFor(string? model) => ModelEncoding.For(model).Name;

    /// <summary>Whether <see cref="EncodingFor"/> is <paramref name="model"/>'s own tokenizer (OpenAI models) rather than an approximation.</summary>
    public static bool IsExact(string? model) => ModelEncoding.For(model).IsExact;

    /// <summary>The number of tokens of <paramref name="text"/> in <paramref name="model"/>'s encoding.</summary>
    public static long CountText(string? model, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length == 0 ? 0 : TiktokenEncodings.Get(EncodingFor(model)).CountTokens(text);
    }

    /// <summary>
    /// The prompt tokens of a request body: OpenAI chat (<c>messages</c>), legacy completions (<c>prompt</c>), embeddings
    /// (<c>input</c>), Anthropic Messages (<c>system</c> + <c>messages</c>) or OpenAI Responses (<c>instructions</c> + <c>input</c>),
    /// recognised by shape. 0 when the body is not a JSON object; never throws for bad input.
    /// </summary>
    /// <remarks>Counting rules, and what counts nothing (images, audio, tool definitions), are in docs/pricing.md.</remarks>
    public static long CountPrompt(string? model, ReadOnlySpan<byte> requestJson) => CountPrompt(model, requestJson, null);

    /// <summary>As <see cref="CountPrompt(string?, ReadOnlySpan{byte})"/>, with the endpoint settling the format instead of the body's shape.</summary>
    public static long CountPrompt(string? model, ReadOnlySpan<byte> requestJson, EndpointKind? endpoint)
    {
        if (requestJson.IsEmpty) return 0;
        try
        {
            var reader = new Utf8JsonReader(requestJson);
            using var document = JsonDocument.ParseValue(ref reader);
            return CountPrompt(model, document.RootElement, endpoint);
        }
        catch (JsonException)
        {
            return 0;
        }
    }

    /// <summary>The prompt tokens of an already parsed body (conditional routing parses it once for every query).</summary>
    internal static long CountPrompt(string? model, JsonElement body, EndpointKind? endpoint)
    {
        var tokenizer = TiktokenEncodings.Get(EncodingFor(model));
        try
        {
            return PromptTokens.Count(body, endpoint, model, text => text.Length == 0 ? 0 : tokenizer.CountTokens(text));
        }
        catch (InvalidOperationException)
        {
            // A string holding an escaped lone surrogate ("\ud800") is valid JSON but no valid text: GetString refuses it.
            return 0;
        }
    }

    /// <summary>
    /// Loads o200k_base now (current OpenAI models, and the approximation for every other vendor), so the first request
    /// that needs a count does not wait for it. cl100k_base, for older OpenAI models only, loads on first use: each
    /// vocabulary holds several megabytes.
    /// </summary>
    public static void Preload() => TiktokenEncodings.Get(TiktokenEncodings.O200kBase);
}
