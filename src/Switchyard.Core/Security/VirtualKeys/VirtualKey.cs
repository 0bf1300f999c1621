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
}
