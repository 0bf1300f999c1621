namespace Switchyard.Simulators;

/// <summary>Wakes waiters whenever some observed state changes; costs nothing while nobody waits.</summary>
internal sealed class ChangeSignal
{
    private TaskCompletionSource? _next;

    /// <summary>A task that completes at the next <see cref="Pulse"/>; take it before checking the state to avoid missing a change.</summary>
    public Task NextChange()
    {
        var current = Volatile.Read(ref _next);
        if (current is not null)
        {
            return current.Task;
        }

        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return (Interlocked.CompareExchange(ref _next, created, null) ?? created).Task;
    }

    public void Pulse() => Interlocked.Exchange(ref _next, null)?.TrySetResult();

    /// <summary>Waits until <paramref name="condition"/> holds, re-checking after every pulse.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        using var timer = new CancellationTokenSource(timeout);
        while (true)
        {
            var change = NextChange();
            if (condition())
            {
                return;
            }

            try
            {
                await change.WaitAsync(timer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timer.IsCancellationRequested)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for {what}.");
            }
        }
    }
}
