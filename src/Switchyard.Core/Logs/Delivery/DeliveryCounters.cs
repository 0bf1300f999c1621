namespace Switchyard.Core.Logs.Delivery;

/// <summary>The shipper's running totals: plain interlocked counters, cheap enough for every record.</summary>
internal sealed class DeliveryCounters
{
    public long Delivered;
    public long Dropped;
    public long Retries;
    public long Failures;
    public long Spilled;
    public long UploadedFromSpill;
    public long Overflowed;

    public static long Read(ref long counter) => Interlocked.Read(ref counter);

    public static void Add(ref long counter) => Interlocked.Increment(ref counter);
}
