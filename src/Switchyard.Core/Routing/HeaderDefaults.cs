using System.Globalization;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Routing;

/// <summary>Provider selection and options taken from request headers (Portkey's header mode, §4.2).</summary>
public sealed class HeaderDefaults
{
    // x-portkey-<name> headers that carry provider fields; the field is the name with '-' → '_'.
    private static readonly string[] ProviderFieldHeaders =
    [
        "openai-organization", "openai-project", "openai-beta", "anthropic-beta", "anthropic-version",
        "azure-resource-name", "azure-deployment-id", "azure-api-version", "azure-ad-token", "azure-auth-mode",
        "azure-managed-client-id", "azure-workload-client-id", "azure-entra-client-id", "azure-entra-client-secret",
        "azure-entra-tenant-id", "azure-entra-scope", "azure-model-name",
        "aws-access-key-id", "aws-secret-access-key", "aws-session-token", "aws-region", "aws-role-arn",
        "aws-auth-type", "aws-external-id",
        "vertex-project-id", "vertex-region", "vertex-service-account-json", "vertex-auth-type",
        "fireworks-account-id", "workers-ai-account-id", "huggingface-base-url",
    ];

    public string? Provider { get; init; }

    public string? ApiKey { get; init; }

    /// <summary>Validated <c>x-portkey-custom-host</c>, without trailing slash.</summary>
    public string? CustomHost { get; init; }

    public IReadOnlyList<string>? ForwardHeaders { get; init; }

    public int? RequestTimeoutMs { get; init; }

    public IReadOnlyDictionary<string, string> ProviderFields { get; init; } = new Dictionary<string, string>();

    /// <summary>The bearer token from <c>Authorization</c>, without the scheme.</summary>
    public static string? BearerToken(IRequestHeaders headers)
    {
        var auth = headers.Get("authorization");
        if (string.IsNullOrWhiteSpace(auth))
        {
            return null;
        }
        auth = auth.Trim();
        return auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth[7..].Trim() : auth;
    }

    internal static Dictionary<string, string> ReadProviderFields(IRequestHeaders headers)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in ProviderFieldHeaders)
        {
            if (headers.Get("x-portkey-" + name) is { Length: > 0 } value)
            {
                fields[name.Replace('-', '_')] = value;
            }
        }
        // Un-prefixed forms accepted for Claude Code and OpenAI clients.
        if (!fields.ContainsKey("anthropic_beta") && headers.Get("anthropic-beta") is { Length: > 0 } ab)
        {
            fields["anthropic_beta"] = ab;
        }
        if (!fields.ContainsKey("anthropic_version") && headers.Get("anthropic-version") is { Length: > 0 } av)
        {
            fields["anthropic_version"] = av;
        }
        if (!fields.ContainsKey("openai_beta") && headers.Get("openai-beta") is { Length: > 0 } ob)
        {
            fields["openai_beta"] = ob;
        }
        return fields;
    }

    internal static bool TryParseTimeout(string? raw, out int? timeoutMs)
    {
        timeoutMs = null;
        if (string.IsNullOrWhiteSpace(raw))
        {
            return true;
        }
        if (int.TryParse(raw.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) && ms > 0)
        {
            timeoutMs = ms;
            return true;
        }
        return false;
    }
}
