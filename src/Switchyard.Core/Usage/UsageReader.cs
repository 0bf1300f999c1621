using System.Text.Json;

namespace Switchyard.Core.Usage;

/// <summary>Reads OpenAI-format usage from a response: the top-level <c>usage</c> of a JSON body, or the last usage chunk of an SSE stream.</summary>
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
    public static (TokenUsage? Usage, string? Model) FromEventStreamTail(ReadOnlySpan<byte> tail)
    {
        // Events are separated by a blank line; walk them backwards so the final usage chunk is found first.
        var end = tail.Length;
        while (end > 0)
        {
            var start = LastEventStart(tail[..end]);
            var ev = tail[start..end];
            end = start > 0 ? start - 1 : 0;
            var data = ev.IndexOf("data:"u8);
            if (data < 0)
            {
                continue;
            }
            var payload = ev[(data + 5)..].Trim((byte)' ').TrimEnd("\r\n"u8);
            if (payload.Length == 0 || payload[0] != (byte)'{' || payload.IndexOf("\"usage\""u8) < 0)
            {
                continue;
            }
            var (usage, model) = FromJson(payload);
            if (usage is not null)
            {
                return (usage, model);
            }
        }
        return (null, null);
    }

    private static int LastEventStart(ReadOnlySpan<byte> span)
    {
        var trimmed = span.TrimEnd("\r\n"u8);
        var lf = trimmed.LastIndexOf("\n\n"u8);
        var crlf = trimmed.LastIndexOf("\r\n\r\n"u8);
        if (lf < 0 && crlf < 0)
        {
            return 0;
        }
        return lf >= crlf ? lf + 2 : crlf + 4;
    }

    private static TokenUsage? ReadUsageObject(ref Utf8JsonReader reader)
    {
        long prompt = 0, completion = 0, total = 0, cached = 0, reasoning = 0;
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
        }
        if (total == 0)
        {
            total = prompt + completion;
        }
        return new TokenUsage(prompt, completion, total, cached, reasoning);
    }

    private static long ReadLong(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var v) ? v : 0;
    }
}
