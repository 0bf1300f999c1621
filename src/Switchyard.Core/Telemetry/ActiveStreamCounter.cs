namespace Switchyard.Core.Telemetry;

/// <summary>Streamed answers being delivered right now; read by the <c>switchyard.streams.active</c> gauge.</summary>
public sealed class ActiveStreamCounter
{
    private long _active;

    public long Active => Interlocked.Read(ref _active);

    internal void Increment() => Interlocked.Increment(ref _active);

    internal void Decrement() => Interlocked.Decrement(ref _active);
}
