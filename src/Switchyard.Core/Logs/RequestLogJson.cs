using System.Text.Json;

namespace Switchyard.Core.Logs;

/// <summary>The JSON-lines form of a <see cref="RequestLogRecord"/> (snake_case, one object per line).</summary>
public static class RequestLogJson
{
    [ThreadStatic]
    private static Utf8JsonWriter? _writer;

    public static void Write(Stream stream, RequestLogRecord r)
    {
        var json = _writer ??= new Utf8JsonWriter(Stream.Null);
        json.Reset(stream);
        json.WriteStartObject();
        json.WriteString("trace_id", r.TraceId);
        json.WriteString("started_at", r.StartedAt);
        json.WriteString("method", r.Method);
        json.WriteString("path", r.Path);
        json.WriteString("fn", r.Function);
        WriteOptional(json, "config_mode", r.ConfigMode);
        WriteOptional(json, "config_name", r.ConfigName);
        WriteOptional(json, "provider", r.Provider);
        WriteOptional(json, "request_model", r.RequestModel);
        WriteOptional(json, "response_model", r.ResponseModel);
        WriteOptional(json, "last_used_option_index", r.OptionPath);
        json.WriteNumber("retry_attempt_count", r.RetryAttemptCount);
        json.WriteNumber("status", r.Status);
        json.WriteBoolean("stream", r.Stream);
        WriteOptional(json, "error", r.Error);
        WriteOptional(json, "cache_status", r.CacheStatus);
        json.WriteNumber("time_to_headers_ms", Math.Round(r.TimeToHeadersMs, 3));
        json.WriteNumber("time_to_first_byte_ms", Math.Round(r.TimeToFirstByteMs, 3));
        json.WriteNumber("duration_ms", Math.Round(r.DurationMs, 3));
        json.WriteNumber("response_bytes", r.ResponseBytes);
        if (r.ClientAborted)
        {
            json.WriteBoolean("client_aborted", true);
        }
        if (r.Usage is { } u)
        {
            json.WriteStartObject("usage");
            json.WriteNumber("prompt_tokens", u.PromptTokens);
            json.WriteNumber("completion_tokens", u.CompletionTokens);
            json.WriteNumber("total_tokens", u.TotalTokens);
            if (u.CachedPromptTokens > 0)
            {
                json.WriteNumber("cached_prompt_tokens", u.CachedPromptTokens);
            }
            if (u.CacheWriteTokens > 0)
            {
                json.WriteNumber("cache_write_tokens", u.CacheWriteTokens);
            }
            if (u.ReasoningTokens > 0)
            {
                json.WriteNumber("reasoning_tokens", u.ReasoningTokens);
            }
            json.WriteEndObject();
        }
        if (r.Attempts.Count > 0)
        {
            json.WriteStartArray("attempts");
            foreach (var a in r.Attempts)
            {
                json.WriteStartObject();
                json.WriteString("option_path", a.OptionPath);
                WriteOptional(json, "provider", a.Provider);
                json.WriteNumber("status", a.Status);
                json.WriteNumber("retry", a.Retry);
                json.WriteString("outcome", a.Outcome);
                WriteOptional(json, "next", a.Reason);
                json.WriteNumber("duration_ms", Math.Round(a.DurationMs, 3));
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        if (r.HookResults is { } hooks)
        {
            json.WritePropertyName("hook_results");
            hooks.WriteTo(json);
        }
        json.WriteEndObject();
        json.Flush();
        stream.WriteByte((byte)'\n');
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }
}
