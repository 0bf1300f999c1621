namespace Switchyard.Core.Configs;

/// <summary>Why a named config file did not load, and whether an earlier good version still serves.</summary>
public sealed record ConfigLoadProblem(string File, string Path, string Message, bool KeptPreviousVersion);
