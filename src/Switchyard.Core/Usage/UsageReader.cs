using System.Text.Json;
using Switchyard.Core.Streaming;

namespace Switchyard.Core.Usage;

/// <summary>
/// Reads usage from a response as relayed to the client: the top-level <c>usage</c> of a JSON body, or the last usage
/// of an SSE stream. Understands OpenAI chat (<c>prompt_tokens</c>…), OpenAI Responses and Anthropic Messages
/// (<c>input_tokens</c>…, where Anthropic's cache reads and writes are added to the prompt), the latter also nested in
/// <c>message</c> or <c>response</c> (message_start, response.completed).
/// </summary>
public static class UsageReader
{
    /// <summary>Usage and model from a <c>chat.completion</c>/<c>text_completion</c>/embeddings JSON body; null when absent or unreadable.</summary>
    public static (TokenUsage? Usage, string? Model) FromJson(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, null);
            }
            TokenUsage? usage = null;
            string? model = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    usage = reader.TokenType == JsonTokenType.StartObject ? ReadUsageObject(ref reader) : null;
                    if (reader.TokenType is JsonTokenType.StartArray)
                    {
                        reader.Skip();
                    }
                }
                else if ((reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("response"u8)) && usage is null)
                {
                    // Anthropic's message_start and the Responses API's response.* events nest the object.
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        var inner = FromJson(body[start..((int)reader.BytesConsumed)]);
                        usage ??= inner.Usage;
                        model ??= inner.Model;
                    }
                    else if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    model = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            return (usage, model);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    /// <summary>Usage from the tail of an SSE stream: the last <c>data:</c> event whose JSON carries a non-null <c>usage</c>.</summary>
    public static (TokenUsage? Usage, string? Model) FromEventStreamTail(ReadOnlySpan<byte> tail) => FromEventStream([], tail);

    /// <summary>
    /// Usage from the head and tail of an SSE stream. The tail's last usage wins; when it lacks the input count
    /// (Anthropic's message_delta reports output tokens only), the input side comes from the head (message_start).
    /// </summary>
    public static (TokenUsage? Usage, string? Model) FromEventStream(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail)
    {
        var (usage, model) = LastUsage(tail);
        if (usage is { PromptTokens: 0 } last)
        {
            var (early, earlyModel) = FirstUsage(head);
            if (early is { } first)
            {
                var prompt = first.PromptTokens;
                usage = last with { PromptTokens = prompt, CachedPromptTokens = Math.Max(last.CachedPromptTokens, first.CachedPromptTokens),
                    CacheWriteTokens = Math.Max(last.CacheWriteTokens, first.CacheWriteTokens), TotalTokens = prompt + last.CompletionTokens };
                model ??= earlyModel;
            }
        }
        return (usage, model);
    }

    private static (TokenUsage? Usage, string? Model) FirstUsage(ReadOnlySpan<byte> head)
    {
        // Only whole events: the head is cut at an arbitrary byte, so its last event may be incomplete.
        while (SseEventSplitter.EventLength(head) is > 0 and var length)
        {
            if (Payload(head[..length]) is { } payload && FromJson(payload) is { Usage: not null } found)
            {
                return found;
            }
            head = head[length..];
        }
        return (null, null);
    }

    private static (TokenUsage? Usage, string? Model) LastUsage(ReadOnlySpan<byte> tail)
    {
        // The tail starts at an arbitrary byte: its first "event" may be a fragment, which simply does not parse.
        (TokenUsage? Usage, string? Model) last = (null, null);
        while (!tail.IsEmpty)
        {
            var length = SseEventSplitter.EventLength(tail);
            var evt = length < 0 ? tail : tail[..length];
            if (Payload(evt) is { } payload && FromJson(payload) is { Usage: not null } found)
            {
                last = found;
            }
            tail = length < 0 ? default : tail[length..];
        }
        return last;
    }

    /// <summary>The data of a single-line <c>data: {…"usage"…}</c> event, or null.</summary>
    private static byte[]? Payload(ReadOnlySpan<byte> evt)
    {
        if (!HasUsageObject(evt))
        {
            return null;
        }
        var data = SseReader.Data(evt);
        return data is { Length: > 0 } && data[0] == '{' ? System.Text.Encoding.UTF8.GetBytes(data) : null;
    }

    /// <summary>
    /// True when the event has a <c>"usage"</c> key followed by an object. OpenAI sends <c>"usage":null</c> in every chunk
    /// of a stream that asked for usage: those events are skipped without being parsed.
    /// </summary>
    internal static bool HasUsageObject(ReadOnlySpan<byte> evt)
    {
        while (evt.IndexOf("\"usage\""u8) is >= 0 and var at)
        {
            var rest = evt[(at + 7)..].TrimStart(" \t\r\n:"u8);
            if (!rest.IsEmpty && rest[0] == (byte)'{')
            {
                return true;
            }
            evt = evt[(at + 7)..];
        }
        return false;
    }

    private static TokenUsage? ReadUsageObject(ref Utf8JsonReader reader)
    {
        long prompt = 0, completion = 0, total = 0, cached = 0, reasoning = 0, input = 0, output = 0, cacheRead = 0, cacheWrite = 0;
        var anthropicCache = false;
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }
            if (reader.ValueTextEquals("prompt_tokens"u8))
            {
                prompt = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("completion_tokens"u8))
            {
                completion = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("total_tokens"u8))
            {
                total = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("cached_tokens"u8))
            {
                cached = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("reasoning_tokens"u8))
            {
                reasoning = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("input_tokens"u8))
            {
                input = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("output_tokens"u8))
            {
                output = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8))
            {
                cacheRead = ReadLong(ref reader);
                anthropicCache = true;
            }
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8))
            {
                cacheWrite = ReadLong(ref reader);
                anthropicCache = true;
            }
        }
        if (prompt == 0 && completion == 0 && (input > 0 || output > 0 || anthropicCache))
        {
            // Messages/Responses naming. Anthropic's input_tokens leaves out cache reads and writes; OpenAI's includes them.
            prompt = anthropicCache ? input + cacheRead + cacheWrite : input;
            completion = output;
            cached = anthropicCache ? cacheRead : cached;
            total = 0;
        }
        else if (anthropicCache)
        {
            // Canonical chat usage from a translated Anthropic/Bedrock target already counts them in prompt_tokens.
            cached = Math.Max(cached, cacheRead);
        }
        if (total == 0)
        {
            total = prompt + completion;
        }
        return new TokenUsage(prompt, completion, total, cached, reasoning, cacheWrite);
    }

    private static long ReadLong(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var v) ? v : 0;
    }
}
