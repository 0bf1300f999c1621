using System.Collections.Frozen;
using Switchyard.Core.Providers;

namespace Switchyard.Core.Configs;

/// <summary>The provider fields (config keys such as <c>resource_name</c>) each provider's adapter reads; the compiler refuses the rest.</summary>
/// <remarks>
/// The adapters read their fields by name (<c>ResolvedTarget.Field("…")</c>), so this table restates those names; a test reads every
/// <c>Field("…")</c> in <c>src/Switchyard.Core/Providers</c> and fails when an adapter reads a field missing here.
/// OpenAI-compatible providers need no entry: their fields are the descriptor's <see cref="ProviderDescriptor.FieldHeaders"/>.
/// </remarks>
internal static class ProviderFieldCatalog
{
    private static readonly string[] AnthropicFields = ["anthropic_version", "anthropic_beta"];

    private static readonly FrozenDictionary<string, string[]> ByFamily = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["anthropic"] = AnthropicFields,
        ["azure-openai"] =
        [
            "resource_name", "azure_resource_name", "deployment_id", "azure_deployment_id", "deployment", "azure_deployment",
            "api_version", "azure_api_version", "azure_ad_token", "azure_auth_mode", "azure_entra_scope", "azure_authority_host",
            "azure_entra_tenant_id", "azure_entra_client_id", "azure_entra_client_secret", "azure_managed_client_id", "azure_workload_client_id",
        ],
        ["bedrock"] = ["aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_region", "aws_role_arn", "aws_external_id", "aws_auth_type"],
        // Claude models on Vertex take Anthropic's version and beta fields too.
        ["vertex-ai"] = ["vertex_region", "vertex_project_id", "vertex_service_account_json", "vertex_auth_type", .. AnthropicFields],
        ["google"] = [],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Portkey provider fields this version does not read; named so the error says "not supported" rather than "unknown".</summary>
    private static readonly FrozenSet<string> PortkeyOnly = new[]
    {
        "azure_model_name", "aws_s3_bucket", "aws_s3_object_key", "vertex_storage_bucket_name", "workers_ai_account_id",
        "huggingface_base_url", "fireworks_account_id", "snowflake_account", "oracle_region", "oracle_tenancy", "oracle_user",
        "oracle_fingerprint", "oracle_private_key", "oracle_key_passphrase", "oracle_compartment_id",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Every field some provider reads, for configs whose provider comes from the request headers.</summary>
    public static FrozenSet<string> All { get; } = ByFamily.Values.SelectMany(f => f)
        .Concat(ProviderCatalog.OpenAiCompatible.Concat(ProviderCatalog.Translated).SelectMany(p => p.FieldHeaders.Select(h => h.Field)))
        .ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The fields <paramref name="provider"/>'s adapter reads.</summary>
    public static IEnumerable<string> ReadBy(ProviderDescriptor provider) =>
        (ByFamily.TryGetValue(provider.Family, out var fields) ? fields : []).Concat(provider.FieldHeaders.Select(h => h.Field));

    public static bool IsReadBy(ProviderDescriptor provider, string field) =>
        ByFamily.TryGetValue(provider.Family, out var fields) && fields.Contains(field, StringComparer.Ordinal)
        || provider.FieldHeaders.Any(h => h.Field == field);

    public static bool IsPortkeyOnly(string field) => PortkeyOnly.Contains(field) || field.StartsWith("oracle_", StringComparison.Ordinal);

    /// <summary>The provider families whose adapters read <paramref name="field"/>, for "it applies to …" hints.</summary>
    public static IEnumerable<string> FamiliesReading(string field)
    {
        foreach (var (family, fields) in ByFamily)
        {
            if (fields.Contains(field, StringComparer.Ordinal))
            {
                yield return family;
            }
        }
        foreach (var provider in ProviderCatalog.OpenAiCompatible)
        {
            if (provider.FieldHeaders.Any(h => h.Field == field))
            {
                yield return provider.Slug;
            }
        }
    }
}
