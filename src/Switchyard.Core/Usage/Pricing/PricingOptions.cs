using static Switchyard.Core.EnvironmentValues;

namespace Switchyard.Core.Usage.Pricing;

/// <summary>Where the price table comes from, bound from the variables in docs/configuration.md.</summary>
public sealed record PricingOptions
{
    /// <summary>A JSON price table laid over the shipped one (<c>PRICE_TABLE_PATH</c>); null uses the shipped table alone.</summary>
    public string? TablePath { get; init; }

    public static PricingOptions FromEnvironment(Func<string, string?> get) => new() { TablePath = NonEmpty(get("PRICE_TABLE_PATH")) };
}
