using static Switchyard.Core.EnvironmentValues;

namespace Switchyard.Core.Security.VirtualKeys;

/// <summary>Where virtual keys are defined (<c>VIRTUAL_KEYS_PATH</c>); none are loaded when it is unset.</summary>
public sealed record VirtualKeyOptions
{
    /// <summary>A virtual-key file or a directory of them, JSON or YAML (<c>VIRTUAL_KEYS_PATH</c>).</summary>
    public string? Path { get; init; }

    /// <summary>Reload debounce after a file event (tests shorten it).</summary>
    public TimeSpan ReloadDebounce { get; init; } = TimeSpan.FromMilliseconds(200);

    public static VirtualKeyOptions FromEnvironment(Func<string, string?> get) => new() { Path = NonEmpty(get("VIRTUAL_KEYS_PATH")) };
}
