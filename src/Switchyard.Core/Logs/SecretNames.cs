using System.Text.Json;
using System.Text.Json.Nodes;

namespace Switchyard.Core.Logs;

/// <summary>
/// Decides which header names and config fields hold secrets, so the request log never writes them: credentials
/// (keys, secrets, tokens, passwords, service-account JSON), auth and cookie headers, and AWS role identifiers.
/// </summary>
public static class SecretNames
{
    /// <summary>What the log writes in place of a secret's value.</summary>
    public const string Redacted = "[redacted]";

    private static readonly string[] Fragments =
        ["secret", "password", "passwd", "credential", "service_account", "private", "authorization", "cookie", "signature", "role_arn", "external_id"];

    /// <summary>True for a header or JSON field name that holds a secret (dashes and underscores are the same).</summary>
    public static bool IsSecret(string name)
    {
        var n = name.ToLowerInvariant().Replace('-', '_');
        if (n.EndsWith("key", StringComparison.Ordinal) || n.EndsWith("key_id", StringComparison.Ordinal) || n.EndsWith("token", StringComparison.Ordinal))
        {
            return true;
        }
        foreach (var f in Fragments)
        {
            if (n.Contains(f, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>An inline config (JSON text) with every secret field's value replaced; a config slug or unreadable text is returned as it is, or redacted when it might hold a secret.</summary>
    public static string MaskConfig(string config)
    {
        var trimmed = config.AsSpan().TrimStart();
        if (trimmed.IsEmpty || trimmed[0] != '{')
        {
            return config; // a named config's slug
        }
        try
        {
            var node = JsonNode.Parse(config);
            Mask(node);
            return node?.ToJsonString() ?? config;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            // Unparseable, a key given twice, a lone surrogate: nothing can be masked reliably, so nothing is shown.
            return Redacted;
        }
    }

    private static void Mask(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToList())
                {
                    if (IsSecret(name))
                    {
                        obj[name] = Redacted;
                    }
                    else
                    {
                        Mask(obj[name]);
                    }
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Mask(item);
                }
                break;
        }
    }
}
