using System.Text.Json;

namespace Switchyard.Core.Logs;

/// <summary>
/// The JSON document of a <see cref="RequestLogRecord"/>: one object per request, a line of the local log or one object in
/// a bucket. It carries Portkey's log-document parts (<c>_id</c>, <c>request</c>, <c>response</c>,
/// <c>organisation_id</c>, <c>created_at</c>) next to our flat snake_case fields. Written on the log writer, never on
/// the request path.
/// </summary>
public static class RequestLogDocument
{
    /// <summary>Appends the document (no newline) to <paramref name="buffer"/>; on an exception nothing usable was written.</summary>
    public static void WriteTo(System.Buffers.IBufferWriter<byte> buffer, RequestLogRecord r, string? organisationId = null)
    {
        using var json = new Utf8JsonWriter(buffer);
        WriteDocument(json, r, organisationId);
    }

    /// <summary>The document as UTF-8 bytes (no newline), for an object store.</summary>
    public static byte[] Serialize(RequestLogRecord r, string? organisationId = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        WriteTo(buffer, r, organisationId);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteDocument(Utf8JsonWriter json, RequestLogRecord r, string? organisationId)
    {
        json.WriteStartObject();
        json.WriteString("_id", r.LogId ?? r.TraceId);
        json.WriteString("trace_id", r.TraceId);
        WriteOptional(json, "organisation_id", organisationId);
        json.WriteString("created_at", r.StartedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
        json.WriteString("started_at", r.StartedAt);
        json.WriteString("method", r.Method);
        json.WriteString("path", r.Path);
        json.WriteString("fn", r.Function);
        if (r.Mcp is not null)
        {
            json.WriteString("kind", "mcp");
        }
        WriteOptional(json, "config_mode", r.ConfigMode);
        WriteOptional(json, "config_name", r.ConfigName);
        WriteOptional(json, "provider", r.Provider);
        WriteOptional(json, "api_key_name", r.ApiKeyName);
        WriteOptional(json, "team", r.Team);
        WriteOptional(json, "virtual_key", r.VirtualKey);
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
            WriteOptional(json, "source", r.UsageSource);
            json.WriteEndObject();
        }
        // Always present: null says "not priced" (unknown model, or no usage), which a sum must not read as free.
        if (r.Cost is { } cost)
        {
            json.WriteNumber("cost", cost);
        }
        else
        {
            json.WriteNull("cost");
        }
        json.WriteString("cost_currency", "USD");
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
        if (r.Mcp is { } mcp)
        {
            json.WritePropertyName("mcp");
            mcp.WriteTo(json);
        }
        WriteMetadata(json, r);
        Bodies.LogBodyWriter.WriteRequest(json, r);
        Bodies.LogBodyWriter.WriteResponse(json, r);
        json.WriteEndObject();
    }

    private static void WriteMetadata(Utf8JsonWriter json, RequestLogRecord r)
    {
        if (r.Metadata is null && r.HeaderMetadata.Count == 0)
        {
            return;
        }
        json.WriteStartObject("metadata");
        if (r.Metadata is not null)
        {
            using var doc = JsonDocument.Parse(r.Metadata);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                // A header named in HEADERS_TO_METADATA wins over the same key in x-portkey-metadata (one value per key).
                if (!r.HeaderMetadata.Any(h => h.Key.Equals(p.Name, StringComparison.OrdinalIgnoreCase)))
                {
                    p.WriteTo(json);
                }
            }
        }
        foreach (var (name, value) in r.HeaderMetadata)
        {
            json.WriteString(name, value);
        }
        json.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }
}
