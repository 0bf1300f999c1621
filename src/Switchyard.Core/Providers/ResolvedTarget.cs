using Switchyard.Core.Configs;

namespace Switchyard.Core.Providers;

/// <summary>One leaf target with everything needed to call it: provider, credential, base URL and inherited settings.</summary>
public sealed class ResolvedTarget
{
    public required ProviderDescriptor Provider { get; init; }

    /// <summary>The provider credential (config api_key, else the client's Authorization bearer); null for none.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Base URL to which the OpenAI path is appended, without trailing slash.</summary>
    public required string BaseUrl { get; init; }

    public required TargetSettings Settings { get; init; }

    /// <summary>Provider-specific fields (snake_case): from the config node, or from x-portkey-* headers in header mode.</summary>
    public required IReadOnlyDictionary<string, string> ProviderFields { get; init; }

    /// <summary>Names of client headers to copy to the upstream request.</summary>
    public IReadOnlyList<string> ForwardHeaders { get; init; } = [];

    /// <summary>The slug of the virtual key that supplied provider and credential, if one did.</summary>
    public string? VirtualKey { get; init; }

    /// <summary>Headers the operator set for every request with this target's credential (a virtual key's <c>headers</c>); null for none.</summary>
    public IReadOnlyDictionary<string, string>? ExtraHeaders { get; init; }

    /// <summary>The first non-empty provider field among <paramref name="names"/> (config and header-mode spellings differ).</summary>
    public string? Field(params ReadOnlySpan<string> names)
    {
        foreach (var name in names)
        {
            if (ProviderFields.TryGetValue(name, out var value) && value.Length > 0)
            {
                return value;
            }
        }
        return null;
    }
}
