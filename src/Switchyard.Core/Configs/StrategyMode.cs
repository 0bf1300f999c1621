namespace Switchyard.Core.Configs;

/// <summary>How a config node chooses among its targets.</summary>
public enum StrategyMode
{
    Single,
    LoadBalance,
    Fallback,
    Conditional,
}
