using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Limits;
using Switchyard.Core.Security.ApiKeys;

namespace Switchyard.Gateway.Endpoints.Admin;

/// <summary>
/// The admin API's JSON: answers, and errors as <c>{"error": {"code", "message", "details"?}}</c> (the same <c>error.message</c>
/// the Portkey-shaped 401/403 bodies carry, so a client reads one field for both).
/// </summary>
internal static class AdminResponses
{
    public static async Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        // Answers can hold a freshly made key (once) and who may do what: no cache may keep them.
        response.Headers.CacheControl = "no-store";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }
        response.ContentLength = buffer.Length;
        await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }

    public static Task ErrorAsync(HttpContext context, int status, string code, string message,
        IReadOnlyList<(string Path, string Message)>? details = null) => WriteAsync(context, status, json =>
    {
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("code", code);
        json.WriteString("message", message);
        if (details is { Count: > 0 })
        {
            json.WriteStartArray("details");
            foreach (var (path, detail) in details)
            {
                json.WriteStartObject();
                json.WriteString("path", path);
                json.WriteString("message", detail);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
        json.WriteEndObject();
    });

    /// <summary>A key as the admin API shows it: everything the file says except the hash (null lists mean "any").</summary>
    public static void WriteKey(Utf8JsonWriter json, ApiKey key, string? writableFile)
    {
        json.WriteStartObject();
        json.WriteString("name", key.Name);
        WriteNullable(json, "team", key.Team);
        WriteStrings(json, "scopes", key.Scopes.Order(StringComparer.Ordinal));
        WriteStrings(json, "configs", key.Configs?.Order(StringComparer.Ordinal));
        WriteStrings(json, "providers", key.Providers?.Order(StringComparer.Ordinal));
        WriteStrings(json, "models", key.Models?.Order(StringComparer.Ordinal));
        WriteStrings(json, "virtual_keys", key.VirtualKeys?.Order(StringComparer.Ordinal));
        if (key.Metadata is { } metadata)
        {
            json.WritePropertyName("metadata");
            metadata.WriteTo(json);
        }
        else
        {
            json.WriteNull("metadata");
        }
        if (key.ExpiresAt is { } expires)
        {
            json.WriteString("expires_at", expires);
        }
        else
        {
            json.WriteNull("expires_at");
        }
        json.WriteBoolean("disabled", key.Disabled);
        json.WriteString("file", key.File);
        json.WriteBoolean("writable", writableFile is not null && key.File == writableFile);
        json.WriteStartArray("limits");
        foreach (var rule in key.Limits)
        {
            json.WriteStartObject();
            WriteRuleFields(json, rule);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>One rule's fields: kind, unit, window, amount, alert thresholds and <see cref="LimitRule.Describe"/>.</summary>
    public static void WriteRuleFields(Utf8JsonWriter json, LimitRule rule)
    {
        json.WriteString("kind", rule.Kind == LimitKind.RateLimit ? "rate_limit" : "budget");
        json.WriteString("unit", rule.Unit switch
        {
            LimitUnit.Requests => "requests",
            LimitUnit.Tokens => "tokens",
            _ => "cost_usd",
        });
        json.WriteString("window", LimitRules.Name(rule.Window));
        json.WriteNumber("amount", rule.Amount);
        json.WriteStartArray("alert_thresholds");
        foreach (var t in rule.AlertThresholds)
        {
            json.WriteNumberValue(t);
        }
        json.WriteEndArray();
        json.WriteString("description", rule.Describe());
    }

    public static void WriteLimits(Utf8JsonWriter json, IReadOnlyList<LimitRule> rules)
    {
        json.WriteStartArray("limits");
        foreach (var rule in rules)
        {
            json.WriteStartObject();
            WriteRuleFields(json, rule);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    public static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string>? values)
    {
        if (values is null)
        {
            json.WriteNull(name);
            return;
        }
        json.WriteStartArray(name);
        foreach (var v in values)
        {
            json.WriteStringValue(v);
        }
        json.WriteEndArray();
    }

    public static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>The request body as a JSON object, or an error already written (400 not JSON or not an object, 413 too large, 415 not JSON).</summary>
    public static async Task<JsonObject?> ReadObjectAsync(HttpContext context, int maxBytes)
    {
        var request = context.Request;
        if (request.ContentType is { Length: > 0 } type && !IsJson(type))
        {
            await ErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", "Send the body as application/json");
            return null;
        }
        if (request.ContentLength > maxBytes)
        {
            await ErrorAsync(context, StatusCodes.Status413PayloadTooLarge, "body_too_large", $"The body is larger than {maxBytes} bytes");
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > maxBytes)
            {
                await ErrorAsync(context, StatusCodes.Status413PayloadTooLarge, "body_too_large", $"The body is larger than {maxBytes} bytes");
                return null;
            }
        }
        if (buffer.Length == 0)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_json", "The body is empty: send a JSON object");
            return null;
        }
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            // The reader's position, never its exception text beyond the first sentence (no stack, no internals).
            var reason = ex.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd(' ', '|', '.');
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_json",
                $"The body is not valid JSON (line {(ex.LineNumber ?? 0) + 1}, position {(ex.BytePositionInLine ?? 0) + 1}): {reason}");
            return null;
        }
        if (node is not JsonObject obj)
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_body", "The body must be a JSON object");
            return null;
        }
        return obj;
    }

    private static bool IsJson(string contentType)
    {
        var media = contentType.Split(';', 2)[0].Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }
}
