using System.Collections.Frozen;

namespace Switchyard.Core.Security.VirtualKeys;

/// <summary>
/// A named provider credential (Portkey's virtual key): callers name it by its slug and never see the secret. Defined in
/// <c>VIRTUAL_KEYS_PATH</c> files; the credential itself comes from an environment variable or a mounted secret file.
/// </summary>
public sealed record VirtualKey
{
    /// <summary>What callers write: <c>x-portkey-virtual-key: openai-prod</c>, <c>@openai-prod</c>, <c>virtual_key</c> in a config.</summary>
    public required string Slug { get; init; }

    /// <summary>The provider slug the credential is for (<c>openai</c>, <c>azure-openai</c>, <c>bedrock</c>, …).</summary>
    public required string Provider { get; init; }

    public string? Description { get; init; }

    /// <summary>Models callers may ask for through this key; null allows any.</summary>
    public FrozenSet<string>? Models { get; init; }

    /// <summary>The key's own rate limits and budgets.</summary>
    public IReadOnlyList<Limits.LimitRule> Limits { get; init; } = [];

    /// <summary>The file it came from, for health and the admin API.</summary>
    public string File { get; init; } = "";

    /// <summary>The resolved provider credential (sent as the provider's own auth header); null when the provider fields carry it.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Validated base URL the credential goes to instead of the provider's, without trailing slash.</summary>
    public string? CustomHost { get; init; }

    /// <summary>Extra headers sent to the provider with every request made with this key.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>Provider fields (snake_case, as in a config target), resolved: Azure resource and deployment, AWS and Vertex settings.</summary>
    public IReadOnlyDictionary<string, string> ProviderFields { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>The mounted secret files its credentials were read from; the store re-reads the key when one changes.</summary>
    public IReadOnlyList<string> SecretFiles { get; init; } = [];

    // The generated ToString would print the credential wherever a record lands in a log message or a debugger.
    public override string ToString() => $"VirtualKey {{ Slug = {Slug}, Provider = {Provider}, File = {File} }}";
}
