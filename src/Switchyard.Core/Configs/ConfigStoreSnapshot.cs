using System.Collections.Frozen;

namespace Switchyard.Core.Configs;

/// <summary>An immutable view of the config directory, swapped atomically on every reload.</summary>
public sealed class ConfigStoreSnapshot
{
    public static readonly ConfigStoreSnapshot Empty = new()
    {
        Configs = FrozenDictionary<string, RoutingConfig>.Empty,
        Problems = [],
        Warnings = [],
        Generation = 0,
        LoadedAt = DateTimeOffset.MinValue,
        DirectoryExists = false,
    };

    public required FrozenDictionary<string, RoutingConfig> Configs { get; init; }

    public required IReadOnlyList<ConfigLoadProblem> Problems { get; init; }

    /// <summary>Non-fatal findings, e.g. a <c>${VAR}</c> with no value in the environment.</summary>
    public required IReadOnlyList<string> Warnings { get; init; }

    public required int Generation { get; init; }

    public required DateTimeOffset LoadedAt { get; init; }

    public required bool DirectoryExists { get; init; }

    /// <summary><c>ok</c>, <c>degraded</c> (some file failed) or <c>empty</c> (no directory or no configs).</summary>
    public string State => Problems.Count > 0 ? "degraded" : Configs.Count == 0 ? "empty" : "ok";
}
