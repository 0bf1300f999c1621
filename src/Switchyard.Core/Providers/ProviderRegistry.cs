namespace Switchyard.Core.Providers;

/// <summary>Looks up provider descriptors by slug and adapters by family.</summary>
public sealed class ProviderRegistry
{
    private readonly Dictionary<string, ProviderDescriptor> _providers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, IProviderAdapter> _adapters = new(StringComparer.Ordinal);

    public ProviderRegistry(IEnumerable<ProviderDescriptor> providers, IEnumerable<IProviderAdapter> adapters)
    {
        foreach (var p in providers)
        {
            _providers[p.Slug] = p;
        }
        foreach (var a in adapters)
        {
            _adapters[a.Family] = a;
        }
    }

    /// <summary>The catalog with every adapter this build has, built from the default context (process environment, system clock).</summary>
    public static ProviderRegistry Default { get; } = Create(new ProviderContext());

    /// <summary>
    /// The catalog with every adapter this build has, each built from <paramref name="context"/>; catalog base URLs are
    /// replaced by the context's <c>PROVIDER_BASE_URLS</c> (operator-set, so not SSRF-checked).
    /// </summary>
    public static ProviderRegistry Create(ProviderContext context)
    {
        var registry = new ProviderRegistry(
            [.. ProviderCatalog.OpenAiCompatible, .. ProviderCatalog.Translated],
            [
                new OpenAiCompatibleAdapter(),
                new Anthropic.AnthropicAdapter(),
                new Azure.AzureOpenAiAdapter(context.Environment, context.Trust, context.Time),
                new Bedrock.BedrockAdapter(context.Environment, context.Time),
                new Google.GoogleAdapter(),
                new Google.VertexAdapter(context.Gcp.AuthMode, context.Gcp.MetadataHost,
                    anthropicOnVertex: vertex => new Google.VertexAnthropicDialect(vertex), time: context.Time),
            ]);
        return registry.WithBaseUrls(context.Upstream.BaseUrls);
    }

    /// <summary>A copy of this registry with some providers' base URLs replaced (operator-set, so not SSRF-checked).</summary>
    public ProviderRegistry WithBaseUrls(IReadOnlyDictionary<string, string> baseUrls)
    {
        if (baseUrls.Count == 0)
        {
            return this;
        }
        foreach (var slug in baseUrls.Keys)
        {
            if (!_providers.ContainsKey(slug))
            {
                throw new FormatException($"PROVIDER_BASE_URLS names unknown provider '{slug}'.");
            }
        }
        var providers = _providers.Values.Select(p => baseUrls.TryGetValue(p.Slug, out var url) ? p with { BaseUrl = url } : p);
        return new ProviderRegistry(providers, _adapters.Values);
    }

    public bool TryGetProvider(string slug, out ProviderDescriptor descriptor) => _providers.TryGetValue(slug, out descriptor!);

    public IProviderAdapter? AdapterFor(ProviderDescriptor provider) => _adapters.GetValueOrDefault(provider.Family);
}
