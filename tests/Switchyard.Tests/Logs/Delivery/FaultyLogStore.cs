using System.Collections.Concurrent;
using Switchyard.Core.Logs.Stores;

namespace Switchyard.Tests.Logs.Delivery;

/// <summary>An in-memory log store the test can take down, bring up, make fail a number of times, or hold calls in.</summary>
internal sealed class FaultyLogStore : ILogObjectStore
{
    private readonly object _gate = new();
    private TaskCompletionSource? _held;
    private int _failNext;
    private int _applyThenFailNext;
    private int _calls;

    public string Kind => "test";

    /// <summary>What the bucket holds, by key.</summary>
    public ConcurrentDictionary<string, byte[]> Objects { get; } = new();

    /// <summary>Successful PUTs per key: more than one means the record was written again (harmless, by key).</summary>
    public ConcurrentDictionary<string, int> Puts { get; } = new();

    /// <summary>Every call, whatever its outcome.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Every call fails at once while true.</summary>
    public bool Down { get; set; }

    /// <summary>The next <paramref name="n"/> calls fail.</summary>
    public void FailNext(int n) => Volatile.Write(ref _failNext, n);

    /// <summary>The next <paramref name="n"/> calls write the object, then fail anyway (an answer lost on the way back).</summary>
    public void ApplyThenFailNext(int n) => Volatile.Write(ref _applyThenFailNext, n);

    /// <summary>Calls wait (honouring their cancellation) until <see cref="Release"/>.</summary>
    public void Hold()
    {
        lock (_gate)
        {
            _held ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Release()
    {
        lock (_gate)
        {
            _held?.TrySetResult();
            _held = null;
        }
    }

    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken ct)
    {
        Interlocked.Increment(ref _calls);
        Task? held;
        lock (_gate)
        {
            held = _held?.Task;
        }
        if (held is not null)
        {
            await held.WaitAsync(ct);
        }
        ct.ThrowIfCancellationRequested();
        if (Down)
        {
            throw new IOException("store is down");
        }
        if (TakeOne(ref _failNext))
        {
            throw new HttpRequestException("injected failure");
        }
        Objects[key] = content.ToArray();
        Puts.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (TakeOne(ref _applyThenFailNext))
        {
            throw new HttpRequestException("injected failure after the write");
        }
    }

    private static bool TakeOne(ref int counter)
    {
        for (var n = Volatile.Read(ref counter); n > 0; n = Volatile.Read(ref counter))
        {
            if (Interlocked.CompareExchange(ref counter, n - 1, n) == n)
            {
                return true;
            }
        }
        return false;
    }

    public Task<byte[]?> GetAsync(string key, CancellationToken ct) =>
        Task.FromResult(Objects.TryGetValue(key, out var bytes) ? bytes : null);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
