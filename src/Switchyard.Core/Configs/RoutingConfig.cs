namespace Switchyard.Core.Configs;

/// <summary>A compiled routing config: the root node plus what the request path needs to know about the whole tree.</summary>
public sealed class RoutingConfig
{
    public required ConfigNode Root { get; init; }

    /// <summary>The config names no provider and no targets, so provider and key come from the request headers.</summary>
    public bool TakesProviderFromHeaders => Root.IsLeaf && Root.Provider is null && Root.VirtualKey is null;

    /// <summary>Every virtual-key slug the tree's leaves name, so a request can check them all before routing.</summary>
    public IReadOnlyList<string> VirtualKeys { get; init; } = [];

    /// <summary>Where it came from: a file name for named configs, <c>inline</c> or <c>headers</c>.</summary>
    public string Source { get; init; } = "inline";

    /// <summary>The config's <c>logging</c> block (body logging for its requests); null when absent.</summary>
    public LogSettings? Logging { get; init; }
}
