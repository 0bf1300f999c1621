namespace Switchyard.Core.Usage.Pricing;

/// <summary>One model of the price table: its names and its dated prices, oldest first.</summary>
internal sealed class PriceEntry(string provider, string model, IReadOnlyList<string> aliases, IReadOnlyList<ModelPrice> prices)
{
    public string Provider { get; } = provider;

    public string Model { get; } = model;

    public IReadOnlyList<string> Aliases { get; } = aliases;

    public IReadOnlyList<ModelPrice> Prices { get; } = prices;

    /// <summary>The price in force on <paramref name="at"/>'s UTC day; null before the first one.</summary>
    public ModelPrice? PriceAt(DateTimeOffset at)
    {
        var day = DateOnly.FromDateTime(at.UtcDateTime);
        for (var i = Prices.Count - 1; i >= 0; i--)
        {
            if (Prices[i].EffectiveDate <= day) return Prices[i];
        }
        return null;
    }
}
