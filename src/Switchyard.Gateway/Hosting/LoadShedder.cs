using System.Diagnostics.Metrics;
using Switchyard.Core;
using Switchyard.Core.Errors;

namespace Switchyard.Gateway.Hosting;

/// <summary>Settings of the load shedder (<c>MAX_CONCURRENT_REQUESTS</c>, <c>SHED_MEMORY_PERCENT</c>, <c>SHED_RETRY_AFTER_SECONDS</c>).</summary>
public sealed record LoadSheddingOptions
{
    /// <summary>Memory one open request or stream is budgeted at when the cap is derived from a memory limit (measured: bench/README.md).</summary>
    public const long BudgetPerRequest = 48 * 1024;

    /// <summary>Memory kept aside for the process itself (runtime, code, caches) before requests are budgeted.</summary>
    public const long BaseMemory = 96L * 1024 * 1024;

    /// <summary>Concurrent requests beyond which new ones get 503; null = derive from the limits (<c>auto</c>), 0 = no cap.</summary>
    public int? MaxConcurrentRequests { get; init; }

    /// <summary>Share of the memory limit beyond which new requests get 503 (<c>SHED_MEMORY_PERCENT</c>, default 85; 0 disables).</summary>
    public int MemoryPercent { get; init; } = 85;

    /// <summary>The <c>Retry-After</c> of a refused request, in seconds (<c>SHED_RETRY_AFTER_SECONDS</c>, default 1).</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    public static LoadSheddingOptions FromEnvironment(Func<string, string?> get)
    {
        var d = new LoadSheddingOptions();
        var raw = EnvironmentValues.NonEmpty(get("MAX_CONCURRENT_REQUESTS"));
        int? max = raw is null || raw.Equals("auto", StringComparison.OrdinalIgnoreCase)
            ? null
            : EnvironmentValues.Int(get, "MAX_CONCURRENT_REQUESTS", 0, 0, 10_000_000);
        return d with
        {
            MaxConcurrentRequests = max,
            MemoryPercent = EnvironmentValues.Int(get, "SHED_MEMORY_PERCENT", d.MemoryPercent, 0, 100),
            RetryAfterSeconds = EnvironmentValues.Int(get, "SHED_RETRY_AFTER_SECONDS", d.RetryAfterSeconds, 1, 3600),
        };
    }

    /// <summary>
    /// The cap when none is set: what the memory limit holds at <see cref="BudgetPerRequest"/> each (after
    /// <see cref="BaseMemory"/> and 15 % headroom), and what the open-files limit holds at two descriptors per request
    /// (client and upstream), whichever is smaller; 0 (no cap) when neither limit is known.
    /// </summary>
    public static int DeriveCap(ResourceLimits limits)
    {
        long cap = long.MaxValue;
        if (limits.MemoryLimit is { } memory)
        {
            cap = Math.Min(cap, Math.Max(64, (long)((memory - BaseMemory) * 0.85) / BudgetPerRequest));
        }
        if (limits.OpenFilesLimit is { } files && files < int.MaxValue)
        {
            cap = Math.Min(cap, Math.Max(64, (files - 512) / 2));
        }
        return cap == long.MaxValue ? 0 : (int)Math.Min(cap, int.MaxValue);
    }
}

/// <summary>
/// Refuses new requests with 503 and <c>Retry-After</c> before the gateway runs out of room: beyond a number of
/// concurrent requests, or while memory is near the limit. Requests already admitted, streams included, always run to
/// their end: shedding happens only at the door. Checking costs two interlocked operations per request; memory is
/// sampled by a timer, not on the request path.
/// </summary>
public sealed class LoadShedder : IHostedService, IDisposable
{
    private static readonly TimeSpan SampleEvery = TimeSpan.FromMilliseconds(250);

    private readonly LoadSheddingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<LoadShedder> _logger;
    private readonly Counter<long>? _shedCounter;
    private readonly long? _memoryThreshold;
    private ITimer? _timer;
    private long _inFlight;
    private long _shedConcurrency;
    private long _shedMemory;
    private long _lastWarning = long.MinValue;
    private volatile bool _memoryPressure;
    private long _memoryInUse;

    public LoadShedder(LoadSheddingOptions options, ResourceLimits limits, TimeProvider time, ILogger<LoadShedder> logger, Meter? meter = null)
    {
        _options = options;
        Limits = limits;
        _time = time;
        _logger = logger;
        MaxConcurrent = options.MaxConcurrentRequests ?? LoadSheddingOptions.DeriveCap(limits);
        _memoryThreshold = options.MemoryPercent > 0 && limits.MemoryLimit is { } limit ? limit * options.MemoryPercent / 100 : null;
        if (meter is not null)
        {
            _shedCounter = meter.CreateCounter<long>("switchyard.requests.shed", "{request}", "Requests refused with 503 before any work, by reason (concurrency, memory).");
            meter.CreateObservableUpDownCounter("switchyard.requests.in_flight", () => Interlocked.Read(ref _inFlight), "{request}", "Requests and streams being served now.");
            if (MaxConcurrent > 0)
            {
                meter.CreateObservableGauge("switchyard.requests.max_concurrent", () => (long)MaxConcurrent, "{request}", "The concurrency cap beyond which requests are shed.");
            }
            if (limits.MemoryLimit is { } memoryLimit)
            {
                meter.CreateObservableGauge("switchyard.process.memory.limit", () => memoryLimit, "By", "The memory limit the gateway sheds load against (cgroup or GC heap limit).");
                meter.CreateObservableGauge("switchyard.process.memory.usage", () => Interlocked.Read(ref _memoryInUse), "By", "Memory in use as counted against the limit, sampled every 250 ms.");
            }
        }
    }

    public ResourceLimits Limits { get; }

    /// <summary>The concurrency cap in force (0 = none).</summary>
    public int MaxConcurrent { get; }

    public long InFlight => Interlocked.Read(ref _inFlight);

    public long ShedForConcurrency => Interlocked.Read(ref _shedConcurrency);

    public long ShedForMemory => Interlocked.Read(ref _shedMemory);

    public bool MemoryPressure => _memoryPressure;

    public long MemoryInUse => Interlocked.Read(ref _memoryInUse);

    /// <summary>Admits a request (the caller must <see cref="Exit"/> when its response, stream included, has ended) or says no.</summary>
    public bool TryEnter(out string? reason)
    {
        if (_memoryPressure)
        {
            Interlocked.Increment(ref _shedMemory);
            reason = "memory";
            return false;
        }
        var n = Interlocked.Increment(ref _inFlight);
        if (MaxConcurrent > 0 && n > MaxConcurrent)
        {
            Interlocked.Decrement(ref _inFlight);
            Interlocked.Increment(ref _shedConcurrency);
            reason = "concurrency";
            return false;
        }
        reason = null;
        return true;
    }

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Answers a refused request: 503, <c>Retry-After</c>, and the connection closed so its descriptor is freed at once.</summary>
    public Task RefuseAsync(HttpContext context, string reason)
    {
        _shedCounter?.Add(1, new KeyValuePair<string, object?>("reason", reason));
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastWarning);
        if (last == long.MinValue || _time.GetElapsedTime(last, now) > TimeSpan.FromSeconds(10))
        {
            if (Interlocked.CompareExchange(ref _lastWarning, now, last) == last)
            {
                _logger.LogWarning("Shedding load ({Reason}): {InFlight} requests in flight, cap {Cap}, memory {Memory} MiB of {Limit} MiB; new requests get 503 with Retry-After {RetryAfter} s",
                    reason, InFlight, MaxConcurrent, MemoryInUse >> 20, (Limits.MemoryLimit ?? 0) >> 20, _options.RetryAfterSeconds);
            }
        }
        context.Response.Headers.RetryAfter = _options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers.Connection = "close";
        var message = reason == "memory"
            ? "The gateway is near its memory limit and is not taking new requests; retry shortly."
            : $"The gateway is serving its maximum of {MaxConcurrent} concurrent requests; retry shortly.";
        return GatewayApp.WriteErrorAsync(context, new GatewayError(ErrorCategory.Overloaded, message));
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_memoryThreshold is not null)
        {
            Sample();
            _timer = _time.CreateTimer(_ => Sample(), null, SampleEvery, SampleEvery);
        }
        return Task.CompletedTask;
    }

    /// <summary>Reads memory in use and turns shedding on past the threshold, off again 5 points below it.</summary>
    internal void Sample()
    {
        if (_memoryThreshold is not { } threshold)
        {
            return;
        }
        var used = Limits.MemoryInUse();
        if (!_memoryPressure && used >= threshold)
        {
            // Part of it may be garbage from requests that ended: collect once before refusing anyone.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
            used = Limits.MemoryInUse();
        }
        Interlocked.Exchange(ref _memoryInUse, used);
        var limit = Limits.MemoryLimit!.Value;
        var relief = threshold - (limit * 5 / 100);
        if (!_memoryPressure && used >= threshold)
        {
            _memoryPressure = true;
            _logger.LogWarning("Memory {Used} MiB is past {Percent} % of the {Limit} MiB limit: refusing new requests until it falls below {Relief} MiB",
                used >> 20, _options.MemoryPercent, limit >> 20, relief >> 20);
        }
        else if (_memoryPressure && used < relief)
        {
            _memoryPressure = false;
            _logger.LogInformation("Memory {Used} MiB is back under the threshold: taking new requests again", used >> 20);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();
}
