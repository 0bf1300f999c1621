namespace Switchyard.Core.Guardrails;

/// <summary>Why a check could not reach a verdict; rendered as <c>error: {name, message}</c> in the check result.</summary>
public sealed record CheckError(string Name, string Message)
{
    /// <summary>The name Portkey's plugins report for a plain JavaScript <c>Error</c>.</summary>
    public static CheckError Of(string message) => new("Error", message);
}
