using System.Collections.Concurrent;
using System.Text.Json;
using Switchyard.Core.Configs;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Logs;

/// <summary>What of a request goes into its log record: bodies (setting, config, <c>x-portkey-debug</c>), redacted headers and metadata.</summary>
internal static class LogBodyPolicy
{
    // Header names repeat from request to request: decide once per name (bounded, so odd names cannot grow it forever).
    private static readonly ConcurrentDictionary<string, bool> SecretHeaders = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Bodies are logged unless the setting, the config's <c>logging.bodies</c> or the request's <c>x-portkey-debug: false</c> says no.</summary>
    public static bool Bodies(LogStoreOptions logs, LogSettings? config, IRequestHeaders headers)
    {
        if (!logs.LogBodies || config?.Bodies == false)
        {
            return false;
        }
        return !string.Equals(headers.Get("x-portkey-debug")?.Trim(), "false", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The setting's cap, lowered (never raised) by the config's <c>logging.max_body_bytes</c>.</summary>
    public static int MaxBodyBytes(LogStoreOptions logs, LogSettings? config) =>
        config?.MaxBodyBytes is { } max ? Math.Min(max, logs.MaxBodyBytes) : logs.MaxBodyBytes;

    /// <summary>True when the client asked for no record at all (<c>x-portkey-ignore-service-log: true</c>).</summary>
    public static bool Ignored(IRequestHeaders headers) =>
        string.Equals(headers.Get("x-portkey-ignore-service-log")?.Trim(), "true", StringComparison.OrdinalIgnoreCase);

    public static IReadOnlyList<KeyValuePair<string, string>> RedactedHeaders(IRequestHeaders headers)
    {
        var list = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in headers.All())
        {
            if (name.Equals("x-portkey-config", StringComparison.OrdinalIgnoreCase))
            {
                list.Add(new(name, SecretNames.MaskConfig(value)));
            }
            else
            {
                list.Add(new(name, IsSecretHeader(name) ? SecretNames.Redacted : value));
            }
        }
        return list;
    }

    private static bool IsSecretHeader(string name)
    {
        if (SecretHeaders.TryGetValue(name, out var secret))
        {
            return secret;
        }
        secret = SecretNames.IsSecret(name);
        if (SecretHeaders.Count < 4096)
        {
            SecretHeaders.TryAdd(name, secret);
        }
        return secret;
    }

    /// <summary>The <c>x-portkey-metadata</c> text when it is a JSON object (anything else is not logged as metadata).</summary>
    public static string? Metadata(IRequestHeaders headers)
    {
        var raw = headers.Get("x-portkey-metadata");
        if (string.IsNullOrWhiteSpace(raw) || raw.AsSpan().TrimStart()[0] != '{')
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(raw);
            return doc.RootElement.ValueKind == JsonValueKind.Object && IsText(doc.RootElement) ? raw : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>False when a name or string escapes a lone surrogate: valid JSON syntax that no writer can reproduce as text.</summary>
    private static bool IsText(JsonElement el)
    {
        try
        {
            switch (el.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in el.EnumerateObject())
                    {
                        _ = p.Name;
                        if (!IsText(p.Value))
                        {
                            return false;
                        }
                    }
                    return true;
                case JsonValueKind.Array:
                    foreach (var item in el.EnumerateArray())
                    {
                        if (!IsText(item))
                        {
                            return false;
                        }
                    }
                    return true;
                case JsonValueKind.String:
                    _ = el.GetString();
                    return true;
                default:
                    return true;
            }
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The headers <c>HEADERS_TO_METADATA</c> names that the request carries (secrets never: they stay redacted).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> HeaderMetadata(LogStoreOptions logs, IRequestHeaders headers)
    {
        if (logs.HeadersToMetadata.Count == 0)
        {
            return [];
        }
        var list = new List<KeyValuePair<string, string>>();
        foreach (var name in logs.HeadersToMetadata)
        {
            if (headers.Get(name) is { } value)
            {
                list.Add(new(name, IsSecretHeader(name) ? SecretNames.Redacted : value));
            }
        }
        return list;
    }
}
