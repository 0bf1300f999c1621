using System.Globalization;
using System.Text.Json;

namespace Switchyard.Core.Usage.Pricing;

/// <summary>Reads and validates a price table document (format in docs/pricing.md); every problem names its entry.</summary>
internal static class PriceTableReader
{
    public const int FormatVersion = 1;

    private static readonly HashSet<string> TopKeys = ["format_version", "currency", "unit", "taken", "sources", "notes", "replace_default", "providers", "models"];
    private static readonly HashSet<string> ProviderKeys = ["id", "fallback", "notes"];
    private static readonly HashSet<string> ModelKeys = ["provider", "model", "aliases", "prices", "notes"];
    private static readonly HashSet<string> PriceKeys = ["effective_date", "input", "output", "cached_input", "cache_write", "reasoning", "tiers", "source", "notes"];
    private static readonly HashSet<string> TierKeys = ["above_prompt_tokens", "input", "output", "cached_input", "cache_write", "reasoning"];

    /// <summary>What one document holds.</summary>
    public sealed record Document(bool ReplaceDefault, IReadOnlyDictionary<string, string[]> Fallbacks, IReadOnlyList<string> ProviderOrder, IReadOnlyList<PriceEntry> Entries);

    /// <exception cref="InvalidDataException">The document is not a valid price table; the message names <paramref name="origin"/> and the entry.</exception>
    public static Document Read(ReadOnlySpan<byte> json, string origin)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Price table {origin} is not valid JSON: {ex.Message}", ex);
        }
        using (document)
        {
            return Read(document.RootElement, origin);
        }
    }

    private static Document Read(JsonElement root, string origin)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Fail(origin, "", "the document must be a JSON object");
        CheckKeys(root, TopKeys, origin, "");
        if (!root.TryGetProperty("format_version", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var v) || v != FormatVersion)
        {
            throw Fail(origin, "format_version", $"must be {FormatVersion}");
        }
        if (root.TryGetProperty("currency", out var currency) && currency.GetString() != "USD")
        {
            throw Fail(origin, "currency", "only USD is supported");
        }
        var replace = root.TryGetProperty("replace_default", out var r) && Bool(r, origin, "replace_default");

        var fallbacks = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        var order = new List<string>();
        if (root.TryGetProperty("providers", out var providers))
        {
            if (providers.ValueKind != JsonValueKind.Array) throw Fail(origin, "providers", "must be an array");
            var i = 0;
            foreach (var provider in providers.EnumerateArray())
            {
                var where = $"providers[{i++}]";
                if (provider.ValueKind != JsonValueKind.Object) throw Fail(origin, where, "must be an object");
                CheckKeys(provider, ProviderKeys, origin, where);
                var id = RequiredString(provider, "id", origin, where).ToLowerInvariant();
                if (fallbacks.ContainsKey(id)) throw Fail(origin, where, $"provider '{id}' is listed twice");
                fallbacks[id] = provider.TryGetProperty("fallback", out var f) ? Strings(f, origin, where + ".fallback") : [];
                order.Add(id);
            }
        }

        if (!root.TryGetProperty("models", out var models) || models.ValueKind != JsonValueKind.Array)
        {
            throw Fail(origin, "models", "is missing or not an array");
        }
        var entries = new List<PriceEntry>();
        var names = new Dictionary<(string, string), string>();
        var index = 0;
        foreach (var model in models.EnumerateArray())
        {
            var where = $"models[{index++}]";
            if (model.ValueKind != JsonValueKind.Object) throw Fail(origin, where, "must be an object");
            var entry = ReadEntry(model, origin, where);
            foreach (var name in entry.Aliases.Prepend(entry.Model))
            {
                var key = (entry.Provider, name.ToLowerInvariant());
                if (names.TryGetValue(key, out var other))
                {
                    throw Fail(origin, $"{where} ({entry.Provider}/{entry.Model})", $"the name '{name}' is already used by {other}");
                }
                names[key] = $"{where} ({entry.Provider}/{entry.Model})";
            }
            if (!fallbacks.ContainsKey(entry.Provider))
            {
                fallbacks[entry.Provider] = [];
                order.Add(entry.Provider);
            }
            entries.Add(entry);
        }
        foreach (var (id, list) in fallbacks)
        {
            foreach (var fallback in list)
            {
                if (fallback != "*" && !fallbacks.ContainsKey(fallback))
                {
                    throw Fail(origin, $"providers ({id})", $"fallback '{fallback}' is not a provider of this table");
                }
            }
        }
        return new Document(replace, fallbacks, order, entries);
    }

    private static PriceEntry ReadEntry(JsonElement model, string origin, string where)
    {
        CheckKeys(model, ModelKeys, origin, where);
        var provider = RequiredString(model, "provider", origin, where).ToLowerInvariant();
        var name = RequiredString(model, "model", origin, where);
        where = $"{where} ({provider}/{name})";
        var aliases = model.TryGetProperty("aliases", out var a) ? Strings(a, origin, where + ".aliases") : [];
        if (!model.TryGetProperty("prices", out var prices) || prices.ValueKind != JsonValueKind.Array || prices.GetArrayLength() == 0)
        {
            throw Fail(origin, where, "'prices' must be a non-empty array");
        }
        var list = new List<ModelPrice>();
        var i = 0;
        foreach (var price in prices.EnumerateArray())
        {
            var at = $"{where}.prices[{i++}]";
            if (price.ValueKind != JsonValueKind.Object) throw Fail(origin, at, "must be an object");
            CheckKeys(price, PriceKeys, origin, at);
            if (!price.TryGetProperty("effective_date", out var dateValue))
            {
                throw Fail(origin, at, "'effective_date' is missing (the first day the price applies, YYYY-MM-DD)");
            }
            if (dateValue.ValueKind != JsonValueKind.String
                || !DateOnly.TryParseExact(dateValue.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                throw Fail(origin, at, $"'effective_date' must be a date written YYYY-MM-DD, not {dateValue.GetRawText()}");
            }
            if (list.Count > 0 && list[^1].EffectiveDate >= date)
            {
                throw Fail(origin, at, "prices must be listed oldest first, each with a later effective_date than the one before");
            }
            var rates = Rates(price, origin, at, null);
            var tiers = new List<PriceTier>();
            if (price.TryGetProperty("tiers", out var tierArray))
            {
                if (tierArray.ValueKind != JsonValueKind.Array) throw Fail(origin, at + ".tiers", "must be an array");
                var j = 0;
                foreach (var tier in tierArray.EnumerateArray())
                {
                    var tat = $"{at}.tiers[{j++}]";
                    if (tier.ValueKind != JsonValueKind.Object) throw Fail(origin, tat, "must be an object");
                    CheckKeys(tier, TierKeys, origin, tat);
                    var above = tier.TryGetProperty("above_prompt_tokens", out var ab) && ab.ValueKind == JsonValueKind.Number && ab.TryGetInt64(out var n) && n > 0
                        ? n
                        : throw Fail(origin, tat, "'above_prompt_tokens' must be a whole number above 0");
                    if (tiers.Count > 0 && tiers[^1].AbovePromptTokens >= above) throw Fail(origin, tat, "tiers must be listed by ascending 'above_prompt_tokens'");
                    tiers.Add(new PriceTier(above, Rates(tier, origin, tat, rates)));
                }
            }
            list.Add(new ModelPrice
            {
                Provider = provider,
                Model = name,
                EffectiveDate = date,
                Rates = rates,
                Tiers = tiers,
                Source = price.TryGetProperty("source", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : throw Fail(origin, at, "'source' is missing (where the figures come from)"),
            });
        }
        return new PriceEntry(provider, name, aliases, list);
    }

    /// <summary>The rates of a price or tier; a tier's optional rates default to its price's.</summary>
    private static PriceRates Rates(JsonElement obj, string origin, string where, PriceRates? inherited) => new(
        Amount(obj, "input", origin, where) ?? throw Fail(origin, where, "'input' is missing"),
        Amount(obj, "output", origin, where) ?? throw Fail(origin, where, "'output' is missing"),
        Amount(obj, "cached_input", origin, where) ?? inherited?.CachedInput,
        Amount(obj, "cache_write", origin, where) ?? inherited?.CacheWrite,
        Amount(obj, "reasoning", origin, where) ?? inherited?.Reasoning);

    private static decimal? Amount(JsonElement obj, string name, string origin, string where)
    {
        if (!obj.TryGetProperty(name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var amount))
        {
            throw Fail(origin, where, $"'{name}' must be a number (USD per 1M tokens), not {value.GetRawText()}");
        }
        if (amount < 0) throw Fail(origin, where, $"'{name}' is negative ({amount.ToString(CultureInfo.InvariantCulture)})");
        return amount;
    }

    private static string RequiredString(JsonElement obj, string name, string origin, string where) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()!.Trim()
            : throw Fail(origin, where, $"'{name}' must be a non-empty string");

    private static string[] Strings(JsonElement value, string origin, string where)
    {
        if (value.ValueKind != JsonValueKind.Array) throw Fail(origin, where, "must be an array of strings");
        var list = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString())) throw Fail(origin, where, "must be an array of non-empty strings");
            list.Add(item.GetString()!.Trim().ToLowerInvariant());
        }
        return [.. list];
    }

    private static bool Bool(JsonElement value, string origin, string where) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Fail(origin, where, "must be true or false"),
    };

    // A misspelt key ("cahced_input") would otherwise price cached tokens at the full rate without a word.
    private static void CheckKeys(JsonElement obj, HashSet<string> allowed, string origin, string where)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (!allowed.Contains(property.Name))
            {
                throw Fail(origin, where, $"unknown key '{property.Name}' (expected one of: {string.Join(", ", allowed)})");
            }
        }
    }

    private static InvalidDataException Fail(string origin, string where, string problem) =>
        new($"Price table {origin}: {(where.Length == 0 ? "" : where + ": ")}{problem}");
}
