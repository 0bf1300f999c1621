namespace Switchyard.Core.Logs.Delivery;

/// <summary>Wakes whoever waits for delivery to make progress; costs nothing while nobody waits.</summary>
internal sealed class ProgressSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _waiters;

    public void Pulse()
    {
        if (Volatile.Read(ref _waiters) == 0)
        {
            return;
        }
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Waits until <paramref name="done"/> holds, re-checking after every pulse.</summary>
    public async Task WaitUntilAsync(Func<bool> done, CancellationToken ct)
    {
        Interlocked.Increment(ref _waiters);
        try
        {
            while (true)
            {
                // Take the task before checking, so a pulse between the check and the await is not missed.
                var next = Volatile.Read(ref _next).Task;
                if (done())
                {
                    return;
                }
                await next.WaitAsync(ct).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiters);
        }
    }
}
