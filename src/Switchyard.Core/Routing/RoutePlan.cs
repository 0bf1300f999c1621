using Switchyard.Core.Configs;

namespace Switchyard.Core.Routing;

/// <summary>What to route one request by: a compiled config and the header-derived defaults that complete it.</summary>
public sealed class RoutePlan
{
    public required RoutingConfig Config { get; init; }

    public required HeaderDefaults Headers { get; init; }

    /// <summary>Whether the request supplied the config inline, by name, or only headers.</summary>
    public required string Mode { get; init; }
}
