using Switchyard.Core.Routing.Conditions;

namespace Switchyard.Core.Configs;

/// <summary>One compiled, immutable node of a routing config: a strategy over targets, or a leaf that calls a provider.</summary>
public sealed class ConfigNode
{
    /// <summary>Portkey's option path, e.g. <c>config.targets[0].targets[2]</c>, reported in <c>x-portkey-last-used-option-index</c>.</summary>
    public required string OptionPath { get; init; }

    /// <summary>Null for a leaf.</summary>
    public StrategyMode? Mode { get; init; }

    public IReadOnlyList<ConfigNode> Targets { get; init; } = [];

    /// <summary>Fallback: statuses that move on to the next target; null means any non-2xx.</summary>
    public IReadOnlySet<int>? FallbackOnStatusCodes { get; init; }

    public IReadOnlyList<(ConditionQuery Query, int TargetIndex)> Conditions { get; init; } = [];

    /// <summary>Conditional: index of the default target, or -1.</summary>
    public int DefaultTargetIndex { get; init; } = -1;

    public string? Name { get; init; }

    public double Weight { get; init; } = 1;

    /// <summary>Loadbalance: running sums of the children's weights, for one binary search per pick.</summary>
    public double[] CumulativeWeights { get; init; } = [];

    /// <summary>Provider slug of a leaf; null at the root of a config that takes its provider from headers.</summary>
    public string? Provider { get; init; }

    public string? ApiKey { get; init; }

    /// <summary>The slug of the virtual key a leaf takes its provider and credential from; looked up when the leaf runs.</summary>
    public string? VirtualKey { get; init; }

    /// <summary>Provider-specific fields of this node (snake_case), e.g. openai_organization.</summary>
    public IReadOnlyDictionary<string, string> ProviderFields { get; init; } = EmptyFields;

    public required TargetSettings Settings { get; init; }

    public bool IsLeaf => Mode is null;

    internal static readonly IReadOnlyDictionary<string, string> EmptyFields = new Dictionary<string, string>();
}
