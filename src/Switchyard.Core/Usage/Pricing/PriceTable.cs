namespace Switchyard.Core.Usage.Pricing;

/// <summary>Model prices by provider, dated: the table the repository ships (<c>prices.json</c>), optionally overlaid by an operator's file.</summary>
/// <remarks>Immutable once loaded, so one instance serves every request. Format and sources: docs/pricing.md.</remarks>
public sealed class PriceTable
{
    private const string ResourceName = "Switchyard.Core.Usage.Pricing.prices.json";
    private const string Wildcard = "*";

    private static readonly Lazy<PriceTable> Shipped = new(() => FromDocuments([ReadShipped()]));

    private readonly Dictionary<(string Provider, string Name), PriceEntry> _byName;
    private readonly Dictionary<string, string[]> _fallbacks;
    private readonly string[] _providerOrder;

    private PriceTable(Dictionary<(string, string), PriceEntry> byName, Dictionary<string, string[]> fallbacks, string[] providerOrder, int count)
    {
        _byName = byName;
        _fallbacks = fallbacks;
        _providerOrder = providerOrder;
        Count = count;
    }

    /// <summary>The table shipped with Switchyard.</summary>
    public static PriceTable Default => Shipped.Value;

    /// <summary>The number of models priced.</summary>
    public int Count { get; }

    /// <summary>The provider ids the table prices, in the order a provider-less lookup searches them.</summary>
    public IReadOnlyList<string> Providers => _providerOrder;

    /// <summary>The shipped table, with the file at <see cref="PricingOptions.TablePath"/> laid over it when one is set.</summary>
    /// <exception cref="InvalidDataException">A table is invalid; the message names the file and the entry.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static PriceTable Load(PricingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TablePath is null) return Default;
        var path = Path.GetFullPath(options.TablePath);
        var overlay = PriceTableReader.Read(File.ReadAllBytes(path), path);
        return overlay.ReplaceDefault ? FromDocuments([overlay]) : FromDocuments([overlay, ReadShipped()]);
    }

    /// <summary>A table from JSON text alone (tests, tools); <paramref name="origin"/> names it in error messages.</summary>
    public static PriceTable Parse(string json, string origin = "(inline)")
    {
        ArgumentNullException.ThrowIfNull(json);
        return FromDocuments([PriceTableReader.Read(System.Text.Encoding.UTF8.GetBytes(json), origin)]);
    }

    /// <summary>
    /// The price of <paramref name="model"/> at <paramref name="provider"/> in force at <paramref name="at"/>; null when the table has
    /// no such model, or had no price for it yet at that time. A null or unknown provider searches every provider of the table.
    /// </summary>
    /// <remarks>
    /// The name is tried as sent, then without the decorations providers add (dated snapshot suffixes, Bedrock region and version
    /// parts, a router's <c>vendor/</c> prefix); the provider's own entries first, then those of the providers it falls back to
    /// (Azure OpenAI to OpenAI, Vertex AI to Google and Anthropic, …), then its <c>*</c> entry if it has one.
    /// </remarks>
    public ModelPrice? Find(string? provider, string? model, DateTimeOffset at)
    {
        if (string.IsNullOrWhiteSpace(model)) return null;
        // Every request is priced: resolve each (provider, model) pair once. Bounded, so odd names cannot grow it forever.
        if (_resolved.TryGetValue((provider ?? "", model), out var known)) return known?.PriceAt(at);
        var entry = Resolve(provider, model);
        if (_resolved.Count < ResolvedLimit) _resolved.TryAdd((provider ?? "", model), entry);
        return entry?.PriceAt(at);
    }

    private const int ResolvedLimit = 4096;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Provider, string Model), PriceEntry?> _resolved = new();

    private PriceEntry? Resolve(string? provider, string model)
    {
        var candidates = ModelNames.Candidates(model);
        var id = provider?.Trim().ToLowerInvariant();
        IEnumerable<string> search = id is not null && _fallbacks.TryGetValue(id, out var fallbacks)
            ? Chain(id, fallbacks)
            : _providerOrder;
        foreach (var p in search)
        {
            foreach (var name in candidates)
            {
                if (_byName.TryGetValue((p, name), out var entry)) return entry;
            }
        }
        return id is not null && _byName.TryGetValue((id, Wildcard), out var any) ? any : null;
    }

    /// <summary>The cost in USD of one exchange; null when the model has no price (never 0 for an unknown model).</summary>
    public decimal? Cost(string? provider, string? model, TokenUsage usage, DateTimeOffset at) => Find(provider, model, at)?.Cost(usage);

    // The provider itself, then its fallbacks in order; "*" as a fallback means every provider of the table.
    private IEnumerable<string> Chain(string id, string[] fallbacks)
    {
        yield return id;
        foreach (var fallback in fallbacks)
        {
            if (fallback == Wildcard)
            {
                foreach (var other in _providerOrder)
                {
                    if (other != id) yield return other;
                }
                yield break;
            }
            yield return fallback;
        }
    }

    private static PriceTableReader.Document ReadShipped()
    {
        using var stream = typeof(PriceTable).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The shipped price table ({ResourceName}) is missing from the assembly.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return PriceTableReader.Read(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), "prices.json (shipped)");
    }

    // Earlier documents win: an operator's entry replaces the shipped entry of the same provider and name, and an alias it claims.
    private static PriceTable FromDocuments(IReadOnlyList<PriceTableReader.Document> documents)
    {
        var byName = new Dictionary<(string, string), PriceEntry>();
        var fallbacks = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var order = new List<string>();
        var entries = new HashSet<PriceEntry>();
        foreach (var document in documents)
        {
            foreach (var provider in document.ProviderOrder)
            {
                if (!fallbacks.ContainsKey(provider))
                {
                    order.Add(provider);
                    fallbacks[provider] = document.Fallbacks[provider];
                }
                else if (document.Fallbacks[provider].Length > 0 && fallbacks[provider].Length == 0)
                {
                    fallbacks[provider] = document.Fallbacks[provider];
                }
            }
            foreach (var entry in document.Entries)
            {
                var key = (entry.Provider, entry.Model.ToLowerInvariant());
                if (byName.ContainsKey(key)) continue;
                entries.Add(entry);
                byName[key] = entry;
                foreach (var alias in entry.Aliases)
                {
                    byName.TryAdd((entry.Provider, alias), entry);
                }
            }
        }
        entries.IntersectWith(byName.Values);
        return new PriceTable(byName, fallbacks, [.. order], entries.Count);
    }
}
