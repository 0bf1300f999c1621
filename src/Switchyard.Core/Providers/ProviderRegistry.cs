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
        [new OpenAiCompatibleAdapter(), new Anthropic.AnthropicAdapter(), new Azure.AzureOpenAiAdapter(), new Bedrock.BedrockAdapter(), new Google.GoogleAdapter(),
            new Google.VertexAdapter(anthropicOnVertex: vertex => new Google.VertexAnthropicDialect(vertex))]);

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

    /// <summary>A copy of this registry with <paramref name="adapter"/> serving its family (e.g. one wired to the gateway's environment).</summary>
    public ProviderRegistry WithAdapter(IProviderAdapter adapter) =>
        new(_providers.Values, _adapters.Values.Where(a => a.Family != adapter.Family).Append(adapter));

    /// <summary>A copy whose adapters read process settings (e.g. AWS_* credentials) through <paramref name="environment"/>, the gateway's environment accessor.</summary>
    public ProviderRegistry WithEnvironment(Func<string, string?> environment) =>
        new(_providers.Values, _adapters.Values.Select(a => a is IEnvironmentAware e ? e.WithEnvironment(environment) : a));

    /// <summary>A copy of this registry whose adapters use the engine's settings (e.g. Vertex's GCP_AUTH_MODE and GCE_METADATA_HOST).</summary>
    public ProviderRegistry WithSettings(GatewaySettings settings)
    {
        var adapters = _adapters.Values.Select(a => a is Google.VertexAdapter vertex ? vertex.WithSettings(settings) : a);
        return new ProviderRegistry(_providers.Values, adapters);
    }

    public bool TryGetProvider(string slug, out ProviderDescriptor descriptor) => _providers.TryGetValue(slug, out descriptor!);

    public IProviderAdapter? AdapterFor(ProviderDescriptor provider) => _adapters.GetValueOrDefault(provider.Family);
}

/// <summary>An adapter that reads the gateway's environment (credentials, endpoints) and can be rebuilt around another accessor.</summary>
public interface IEnvironmentAware
{
    IProviderAdapter WithEnvironment(Func<string, string?> environment);
}
