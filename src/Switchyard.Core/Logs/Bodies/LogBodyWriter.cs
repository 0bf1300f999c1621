using System.Text;
using System.Text.Json;

namespace Switchyard.Core.Logs.Bodies;

/// <summary>
/// Writes the <c>request</c> and <c>response</c> parts of a log document: URL, method, redacted headers and the bodies.
/// JSON bodies are embedded as JSON, streams are reassembled into the answer they delivered, bodies over the limit are
/// cut to a string and marked, and embeddings vectors and binary bodies are left out with a note saying what was there.
/// </summary>
internal static class LogBodyWriter
{
    public static void WriteRequest(Utf8JsonWriter json, RequestLogRecord r)
    {
        json.WriteStartObject("request");
        json.WriteString("url", r.Url ?? r.Path);
        json.WriteString("method", r.Method);
        json.WriteStartObject("headers");
        foreach (var (name, value) in r.RequestHeaders)
        {
            if (!name.StartsWith("x-portkey-", StringComparison.OrdinalIgnoreCase))
            {
                json.WriteString(name.ToLowerInvariant(), value);
            }
        }
        json.WriteEndObject();
        json.WriteStartObject("portkeyHeaders");
        foreach (var (name, value) in r.RequestHeaders)
        {
            if (name.StartsWith("x-portkey-", StringComparison.OrdinalIgnoreCase))
            {
                json.WriteString(name.ToLowerInvariant(), value);
            }
        }
        json.WriteEndObject();
        if (r.LogBodies)
        {
            WriteBody(json, r.RequestBody.Span, r.RequestBody.Length, truncatedAtCapture: false, r.RequestContentType, r.MaxBodyBytes, stream: false, embeddings: false);
        }
        json.WriteEndObject();
    }

    public static void WriteResponse(Utf8JsonWriter json, RequestLogRecord r)
    {
        json.WriteStartObject("response");
        json.WriteNumber("status", r.Status);
        json.WriteStartObject("headers");
        WriteOptional(json, "content-type", r.ResponseContentType);
        WriteOptional(json, "x-portkey-provider", r.Provider);
        WriteOptional(json, "x-portkey-last-used-option-index", r.OptionPath);
        json.WriteString("x-portkey-retry-attempt-count", r.RetryAttemptCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        WriteOptional(json, "x-portkey-cache-status", r.CacheStatus);
        json.WriteString("x-portkey-trace-id", r.TraceId);
        json.WriteEndObject();
        if (r.LogBodies && r.ResponseBody is { } capture)
        {
            var stream = r.ResponseContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
            WriteBody(json, capture.Bytes.Span, capture.TotalBytes, capture.Truncated, r.ResponseContentType, r.MaxBodyBytes, stream,
                embeddings: r.Function == "embed");
        }
        json.WriteNumber("responseTime", Math.Round(r.DurationMs));
        WriteOptional(json, "lastUsedOptionJsonPath", r.OptionPath);
        json.WriteBoolean("streamingMode", r.Stream);
        json.WriteEndObject();
    }

    private static void WriteBody(Utf8JsonWriter json, ReadOnlySpan<byte> body, long totalBytes, bool truncatedAtCapture, string? contentType, int maxBytes,
        bool stream, bool embeddings)
    {
        json.WriteNumber("body_bytes", totalBytes);
        if (totalBytes == 0)
        {
            return;
        }
        if (embeddings)
        {
            // Vectors are large and say nothing a reader of the log needs (Portkey leaves them out too).
            json.WriteNull("body");
            json.WriteString("body_omitted", "embeddings");
            return;
        }
        if (stream)
        {
            if (Reassembled(body) is { } answer)
            {
                json.WritePropertyName("body");
                json.WriteRawValue(answer, skipInputValidation: true);
                if (truncatedAtCapture)
                {
                    json.WriteBoolean("body_truncated", true);
                }
                return;
            }
            WriteText(json, body, truncatedAtCapture, maxBytes);
            return;
        }
        if (IsBinary(contentType))
        {
            json.WriteNull("body");
            json.WriteString("body_omitted", contentType);
            return;
        }
        if (!truncatedAtCapture && body.Length <= maxBytes && IsJson(body))
        {
            json.WritePropertyName("body");
            json.WriteRawValue(body, skipInputValidation: true);
            return;
        }
        WriteText(json, body, truncatedAtCapture, maxBytes);
    }

    /// <summary>The stream's answer as JSON text, or null when it cannot be rebuilt (unknown format, text no writer can reproduce).</summary>
    private static byte[]? Reassembled(ReadOnlySpan<byte> body)
    {
        try
        {
            return StreamReassembler.Reassemble(body) is { } answer ? Translation.ChatJson.Serialize(answer) : null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or JsonException)
        {
            return null;
        }
    }

    /// <summary>A body that cannot be embedded as JSON (cut, or not JSON): its first bytes as text.</summary>
    private static void WriteText(Utf8JsonWriter json, ReadOnlySpan<byte> body, bool truncatedAtCapture, int maxBytes)
    {
        var cut = body.Length > maxBytes;
        var text = Encoding.UTF8.GetString(cut ? body[..maxBytes] : body);
        json.WriteString("body", text);
        if (cut || truncatedAtCapture)
        {
            json.WriteBoolean("body_truncated", true);
        }
    }

    private static bool IsBinary(string? contentType)
    {
        if (contentType is null)
        {
            return false;
        }
        var ct = contentType.AsSpan().TrimStart();
        return ct.StartsWith("audio/", StringComparison.OrdinalIgnoreCase) || ct.StartsWith("image/", StringComparison.OrdinalIgnoreCase)
            || ct.StartsWith("video/", StringComparison.OrdinalIgnoreCase) || ct.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase)
            || ct.StartsWith("application/octet-stream", StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsJson(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read())
            {
                return false;
            }
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }
}
