namespace Switchyard.Core.Configs;

/// <summary>A config's <c>logging</c> block: whether its requests' bodies are logged, and at most how many bytes of each.</summary>
/// <param name="Bodies">False keeps bodies out of this config's log records; null leaves the setting (<c>LOG_BODIES</c>) in charge.</param>
/// <param name="MaxBodyBytes">A lower cap than <c>LOG_BODY_MAX_BYTES</c> for this config; null for the setting's.</param>
public sealed record LogSettings(bool? Bodies, int? MaxBodyBytes);
