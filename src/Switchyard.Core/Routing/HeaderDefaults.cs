using System.Collections.Frozen;
using System.Globalization;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Routing;

/// <summary>Provider selection and options taken from request headers (Portkey's header mode, §4.2).</summary>
public sealed class HeaderDefaults
{
    // x-portkey-<name> headers that carry provider fields; the field is the name with '-' → '_'.
    private static readonly FrozenDictionary<string, string> ProviderFieldHeaders = new[]
    {
        "openai-organization", "openai-project", "openai-beta", "anthropic-beta", "anthropic-version",
        "azure-resource-name", "azure-deployment-id", "azure-api-version", "azure-ad-token", "azure-auth-mode",
        "azure-managed-client-id", "azure-workload-client-id", "azure-entra-client-id", "azure-entra-client-secret",
        "azure-entra-tenant-id", "azure-entra-scope", "azure-model-name",
        "aws-access-key-id", "aws-secret-access-key", "aws-session-token", "aws-region", "aws-role-arn",
        "aws-auth-type", "aws-external-id",
        "vertex-project-id", "vertex-region", "vertex-service-account-json", "vertex-auth-type",
        "fireworks-account-id", "workers-ai-account-id", "huggingface-base-url",
    }.ToFrozenDictionary(name => "x-portkey-" + name, name => name.Replace('-', '_'), StringComparer.OrdinalIgnoreCase);

    // Un-prefixed forms accepted for Claude Code and OpenAI clients; the x-portkey- form wins when both are sent.
    private static readonly FrozenDictionary<string, string> PlainFieldHeaders = new Dictionary<string, string>
    {
        ["anthropic-beta"] = "anthropic_beta",
        ["anthropic-version"] = "anthropic_version",
        ["openai-beta"] = "openai_beta",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly IReadOnlyDictionary<string, string> NoFields = new Dictionary<string, string>();

    public string? Provider { get; init; }

    public string? ApiKey { get; init; }

    /// <summary>Validated <c>x-portkey-custom-host</c>, without trailing slash.</summary>
    public string? CustomHost { get; init; }

    public IReadOnlyList<string>? ForwardHeaders { get; init; }

    public int? RequestTimeoutMs { get; init; }

    public IReadOnlyDictionary<string, string> ProviderFields { get; init; } = new Dictionary<string, string>();

    /// <summary>The virtual key named by <c>x-portkey-provider: @slug</c>, <c>x-portkey-virtual-key</c> or <c>"model": "@slug/…"</c>.</summary>
    /// <remarks>When set, <see cref="Provider"/> is its provider and <see cref="ApiKey"/> its credential; the client's own are not used.</remarks>
    public Security.VirtualKeys.VirtualKey? VirtualKey { get; init; }

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

    /// <summary>Provider fields from headers, in one pass over the request's headers (most requests carry none).</summary>
    internal static IReadOnlyDictionary<string, string> ReadProviderFields(IRequestHeaders headers)
    {
        Dictionary<string, string>? fields = null;
        List<KeyValuePair<string, string>>? plain = null;
        foreach (var (name, value) in headers.All())
        {
            if (value.Length == 0)
            {
                continue;
            }
            if (ProviderFieldHeaders.TryGetValue(name, out var field))
            {
                (fields ??= new Dictionary<string, string>(StringComparer.Ordinal))[field] = value;
            }
            else if (PlainFieldHeaders.TryGetValue(name, out var plainField))
            {
                (plain ??= []).Add(new(plainField, value));
            }
        }
        if (plain is not null)
        {
            fields ??= new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (field, value) in plain)
            {
                fields.TryAdd(field, value);
            }
        }
        return fields ?? NoFields;
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
