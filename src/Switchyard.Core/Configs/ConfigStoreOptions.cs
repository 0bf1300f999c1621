using static Switchyard.Core.EnvironmentValues;

namespace Switchyard.Core.Configs;

/// <summary>The directory of named routing configs and how it is reloaded, bound from the variables in docs/configuration.md.</summary>
public sealed record ConfigStoreOptions
{
    /// <summary>Directory of named routing configs (<c>CONFIG_DIR</c>, default <c>./configs</c>).</summary>
    public string Directory { get; init; } = "./configs";

    /// <summary>Quiet period before a changed config file is re-read (<c>CONFIG_RELOAD_DEBOUNCE_MS</c>, default 200).</summary>
    public TimeSpan ReloadDebounce { get; init; } = TimeSpan.FromMilliseconds(200);

    public static ConfigStoreOptions FromEnvironment(Func<string, string?> get)
    {
        var d = new ConfigStoreOptions();
        return d with
        {
            Directory = NonEmpty(get("CONFIG_DIR")) ?? d.Directory,
            ReloadDebounce = Ms(get, "CONFIG_RELOAD_DEBOUNCE_MS", d.ReloadDebounce),
        };
    }
}
