namespace Switchyard.Gateway.Hosting;

/// <summary>
/// Returns memory to the operating system once traffic stops. After a burst the GC heap keeps the size the burst
/// needed, because nothing allocates (so nothing collects) while idle; one aggressive collection after a few quiet
/// seconds gives it back. Never runs while requests flow or streams are open.
/// </summary>
internal sealed class IdleMemoryTrimmer : IHostedService, IDisposable
{
    private readonly TimeSpan _quiet;
    private readonly ILogger<IdleMemoryTrimmer> _logger;
    private Timer? _timer;
    private long _requests;
    private long _seenAtLastTick;
    private long _seenAtLastTrim;
    private int _quietTicks;

    private readonly LoadShedder _shedder;

    public IdleMemoryTrimmer(ServerOptions options, LoadShedder shedder, ILogger<IdleMemoryTrimmer> logger)
    {
        _quiet = options.IdleTrimAfter;
        _shedder = shedder;
        _logger = logger;
    }

    /// <summary>Called once per request; one uncontended increment.</summary>
    public void Touch() => Interlocked.Increment(ref _requests);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_quiet > TimeSpan.Zero)
        {
            var tick = TimeSpan.FromMilliseconds(Math.Max(100, _quiet.TotalMilliseconds / 4));
            _timer = new Timer(_ => Tick(), null, tick, tick);
        }
        return Task.CompletedTask;
    }

    private void Tick()
    {
        var now = Interlocked.Read(ref _requests);
        // Open streams are traffic too: a burst of long streams ends when the last one does, not when the last one started.
        if (now != _seenAtLastTick || _shedder.InFlight > 0)
        {
            _seenAtLastTick = now;
            _quietTicks = 0;
            return;
        }
        // Quiet for the whole window, and there was traffic since the last trim.
        if (++_quietTicks < 4 || now == _seenAtLastTrim)
        {
            return;
        }
        _seenAtLastTrim = now;
        var before = Environment.WorkingSet;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        _logger.LogDebug("Idle: trimmed memory from {Before} MiB to {After} MiB", before >> 20, Environment.WorkingSet >> 20);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Change(Timeout.Infinite, Timeout.Infinite);
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();
}
