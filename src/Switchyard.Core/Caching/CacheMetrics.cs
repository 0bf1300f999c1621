using System.Diagnostics.Metrics;

namespace Switchyard.Core.Caching;

/// <summary>The cache's instruments, on the meter <c>Switchyard.Cache</c>.</summary>
internal static class CacheMetrics
{
    private static readonly Meter Meter = new("Switchyard.Cache");

    /// <summary>Lookups by <c>status</c> (the <c>x-portkey-cache-status</c> value).</summary>
    public static readonly Counter<long> Lookups = Meter.CreateCounter<long>("switchyard.cache.lookups", description: "Response cache lookups by x-portkey-cache-status");

    /// <summary>Store operations that failed or timed out, by <c>operation</c> and <c>store</c>.</summary>
    public static readonly Counter<long> Errors = Meter.CreateCounter<long>("switchyard.cache.errors", description: "Cache store operations that failed or timed out");
}
