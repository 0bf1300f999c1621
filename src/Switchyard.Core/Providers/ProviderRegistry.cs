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

    /// <summary>The catalog with every adapter this build has.</summary>
    public static ProviderRegistry Default { get; } = new(
        [.. ProviderCatalog.OpenAiCompatible, .. ProviderCatalog.Translated],
        [new OpenAiCompatibleAdapter()]);

    public IEnumerable<string> Slugs => _providers.Keys;

    public bool TryGetProvider(string slug, out ProviderDescriptor descriptor) => _providers.TryGetValue(slug, out descriptor!);

    public IProviderAdapter? AdapterFor(ProviderDescriptor provider) => _adapters.GetValueOrDefault(provider.Family);
}
