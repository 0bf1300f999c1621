namespace Switchyard.Core.Configs;

/// <summary>A node's <c>cache</c> block (<c>simple</c> or <c>semantic</c>, <c>max_age</c> in seconds).</summary>
public sealed record CacheSettings(string Mode, int? MaxAgeSeconds);
