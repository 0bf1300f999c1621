using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails;

/// <summary>One check of a hook as configured: its id (<c>default.regexMatch</c>), raw parameters and the compiled check.</summary>
public sealed class CheckDefinition
{
    public required string Id { get; init; }

    /// <summary>The parameters exactly as configured (echoed nowhere, kept for diagnostics and logs).</summary>
    public required JsonObject Parameters { get; init; }

    /// <summary>False when the config says <c>is_enabled: false</c>; the runner skips the check entirely.</summary>
    public bool IsEnabled { get; init; } = true;

    /// <summary>When true an error in this check fails the hook instead of counting as a pass.</summary>
    public bool FailOnError { get; init; }

    public required IGuardrailCheck Check { get; init; }
}
