using System.Diagnostics;
using System.Text.Json;

namespace Switchyard.Tests.Infrastructure;

/// <summary>
/// Several gateway processes with one environment, as replicas of one Deployment would run: same key file, same Redis, each on
/// its own loopback port. Disposing stops every process this instance started.
/// </summary>
public sealed class GatewayReplicas : IAsyncDisposable
{
    private readonly GatewayProcess[] _replicas;

    private GatewayReplicas(GatewayProcess[] replicas) => _replicas = replicas;

    public IReadOnlyList<GatewayProcess> All => _replicas;

    public GatewayProcess this[int index] => _replicas[index];

    public int Count => _replicas.Length;

    /// <summary>Starts <paramref name="count"/> gateways at once and returns when every one answers <c>/v1/health</c>.</summary>
    public static async Task<GatewayReplicas> StartAsync(int count, IReadOnlyDictionary<string, string> environment)
    {
        var starting = Enumerable.Range(0, count).Select(i => GatewayProcess.StartAsync(environment, $"gateway-{i}")).ToArray();
        try
        {
            return new GatewayReplicas(await Task.WhenAll(starting));
        }
        catch
        {
            // Those that did start must not outlive the test.
            foreach (var task in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await task.Result.DisposeAsync();
            }
            throw;
        }
    }

    /// <summary>
    /// Polls <paramref name="probe"/> on every replica until each returns true, or fails after <paramref name="bound"/> naming
    /// what was awaited and the replicas that never got there. Returns how long each replica took.
    /// </summary>
    public async Task<TimeSpan[]> UntilEachAsync(Func<GatewayProcess, Task<bool>> probe, TimeSpan bound, string what)
    {
        var clock = Stopwatch.StartNew();
        var took = new TimeSpan?[_replicas.Length];
        while (true)
        {
            for (var i = 0; i < _replicas.Length; i++)
            {
                if (took[i] is null && await probe(_replicas[i]))
                {
                    took[i] = clock.Elapsed;
                }
            }
            if (took.All(t => t is not null))
            {
                return took.Select(t => t!.Value).ToArray();
            }
            if (clock.Elapsed > bound)
            {
                var missing = string.Join(", ", _replicas.Where((_, i) => took[i] is null).Select(r => r.Name));
                throw new Xunit.Sdk.XunitException($"not within {bound.TotalSeconds} s: {what} (still waiting for {missing})\n"
                    + string.Join('\n', _replicas.Select(r => $"--- {r.Name} output:\n{r.Output}")));
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Every replica's <c>/v1/health</c>, in replica order.</summary>
    public Task<JsonElement[]> HealthAsync() => Task.WhenAll(_replicas.Select(r => r.HealthAsync()));

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_replicas.Select(r => r.DisposeAsync().AsTask()));
    }
}
