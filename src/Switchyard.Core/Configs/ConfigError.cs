namespace Switchyard.Core.Configs;

/// <summary>One problem found in a routing config: where (a JSON path such as <c>targets[1].retry.attempts</c>) and what.</summary>
public sealed record ConfigError(string Path, string Message)
{
    /// <summary>Portkey's rendering, used in the <c>errors</c> array of a 400 response.</summary>
    public override string ToString() => $"path: {(Path.Length == 0 ? "(root)" : Path)}, message: {Message}";
}
