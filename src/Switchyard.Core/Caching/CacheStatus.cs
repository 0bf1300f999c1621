namespace Switchyard.Core.Caching;

/// <summary>Values of <c>x-portkey-cache-status</c>.</summary>
public static class CacheStatus
{
    public const string Hit = "HIT";
    public const string SemanticHit = "SEMANTIC HIT";
    public const string Miss = "MISS";
    public const string SemanticMiss = "SEMANTIC MISS";
    public const string Refresh = "REFRESH";
    public const string Disabled = "DISABLED";
}
