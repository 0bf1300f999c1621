using System.Diagnostics;
using System.Globalization;
using Switchyard.Core.Caching;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Redis;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Streaming.Relay;

/// <summary>
/// A Redis that hangs (the process is stopped with SIGSTOP: connections stay open, nothing is answered) costs each
/// request at most the cache timeout, never the answer; caching resumes once the process continues.
/// </summary>
/// <remarks>It measures added latency, so it runs alone, after the parallel tests.</remarks>
[Collection(HungRedisCollection.Name)]
public sealed class HungRedisTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1.5);

    /// <summary>How long requests keep coming while Redis hangs: past the client's own 1 s command timeout and several of the store's 1 s skip windows, so probes and reconnects to the hung server are on the path too.</summary>
    private static readonly TimeSpan PauseLoad = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task Requests_are_answered_within_the_default_cache_timeout_while_redis_hangs_and_caching_resumes_when_it_continues()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        var url = $"redis://127.0.0.1:{redis.Port}";
        // The product's defaults (no CACHE_TIMEOUT_MS), not the patient 2 s that TestGateway.FastSettings gives other tests.
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Cache = CacheOptions.FromEnvironment(n => n == "REDIS_URL" ? url : null) });
        var timeout = gw.Options.Engine.Cache.Timeout;
        Assert.Equal(CacheOptions.FromEnvironment(_ => null).Timeout, timeout);
        Assert.Equal("redis", gw.Engine.Cache!.Store.Kind);
        (string, string)[] headers = [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-config", RelayPath.CacheConfig)];

        async Task<(string Status, string Body, TimeSpan Elapsed)> AskAsync(string prompt, bool stream)
        {
            var watch = Stopwatch.StartNew();
            var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(prompt, stream: stream), headers));
            var body = await response.Content.ReadAsStringAsync();
            watch.Stop();
            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
            Assert.Contains(stream ? "echo:" : RelayPath.ExpectedText(prompt), body, StringComparison.Ordinal);
            if (stream)
            {
                Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
            }
            return (response.Header("x-portkey-cache-status"), body, watch.Elapsed);
        }

        // Healthy: the cache works (the first connection may be slow on a loaded machine, so ask until it hits).
        await WaitForHitAsync("cached before the pause");

        // The same requests with Redis healthy: what the gateway's own time is on this machine right now.
        var baseline = new Dictionary<bool, TimeSpan>();
        foreach (var stream in (bool[])[false, true])
        {
            var times = new List<TimeSpan>();
            for (var i = 0; i < 3; i++)
            {
                var (status, _, elapsed) = await AskAsync($"healthy {stream} {i}", stream);
                Assert.Equal("MISS", status);
                times.Add(elapsed);
            }
            baseline[stream] = times.Order().ElementAt(1);
            output.WriteLine($"Redis healthy, stream={stream}: {string.Join(", ", times.Select(t => $"{t.TotalMilliseconds:F0} ms"))}");
        }

        var paused = false;
        try
        {
            await SignalAsync(redis.ProcessId, "STOP");
            paused = true;
            Assert.True(await WaitForStateAsync(redis.ProcessId, stopped: true), "redis-server did not stop");

            // The entry stored before the pause cannot be read now: answered from the upstream, as a miss. Then
            // requests keep coming, paced, for a few seconds.
            var upstreamBefore = sim.Requests.Count;
            var pausedFor = Stopwatch.StartNew();
            var asked = 0;
            var worst = TimeSpan.Zero;
            for (var i = 0; i < 12 || pausedFor.Elapsed < PauseLoad; i++)
            {
                var (prompt, stream) = i == 0 ? ("cached before the pause", false) : ($"while redis hangs {i}", i % 2 == 1);
                var (status, _, elapsed) = await AskAsync(prompt, stream);
                asked++;
                Assert.Equal("MISS", status);
                var added = elapsed - baseline[stream];
                worst = added > worst ? added : worst;
                output.WriteLine($"{pausedFor.Elapsed.TotalMilliseconds,6:F0} ms into the pause: \"{prompt}\" stream={stream} took {elapsed.TotalMilliseconds:F0} ms ({added.TotalMilliseconds:F0} ms added)");
                Assert.True(added <= timeout + Margin,
                    $"\"{prompt}\" (stream {stream}) took {elapsed.TotalMilliseconds:F0} ms against {baseline[stream].TotalMilliseconds:F0} ms with Redis healthy: "
                    + $"{added.TotalMilliseconds:F0} ms added, more than the cache timeout {timeout.TotalMilliseconds:F0} ms + {Margin.TotalMilliseconds:F0} ms");
                await Task.Delay(100);
            }
            output.WriteLine($"{asked} requests while Redis hung; at most {worst.TotalMilliseconds:F0} ms added (cache timeout {timeout.TotalMilliseconds:F0} ms)");
            Assert.Equal(upstreamBefore + asked, sim.Requests.Count);
            var health = (await (await gw.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("cache");
            Assert.Equal("degraded", health.GetProperty("state").GetString());

            await SignalAsync(redis.ProcessId, "CONT");
            paused = false;
            Assert.True(await WaitForStateAsync(redis.ProcessId, stopped: false), "redis-server did not continue");
        }
        finally
        {
            if (paused)
            {
                await SignalAsync(redis.ProcessId, "CONT");
            }
        }

        // Caching resumes, and every hit is the answer stored for its own request (no reply meant for a command that
        // timed out during the pause is taken for another one's).
        await WaitForHitAsync("cached after the pause");
        for (var i = 0; i < 4; i++)
        {
            var stream = i % 2 == 0;
            var (first, stored, _) = await AskAsync($"after the pause {i}", stream);
            var (second, replay, _) = await AskAsync($"after the pause {i}", stream);
            Assert.Equal(("MISS", "HIT"), (first, second));
            Assert.Equal(stored, replay);
        }

        async Task WaitForHitAsync(string prompt)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            string? stored = null;
            while (true)
            {
                var (status, body, _) = await AskAsync(prompt, stream: false);
                if (status == "HIT")
                {
                    Assert.Equal(stored, body);
                    return;
                }
                Assert.True(DateTime.UtcNow < deadline, $"no cache hit for \"{prompt}\" within 30 s (last status {status})");
                stored = body;
                // Poll, paced so a cache store that is skipping after failures gets its next probe.
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Sends a signal to one process we started, by its PID.</summary>
    private static async Task SignalAsync(int pid, string signal)
    {
        var start = new ProcessStartInfo("kill") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-" + signal);
        start.ArgumentList.Add(pid.ToString(CultureInfo.InvariantCulture));
        using var kill = Process.Start(start) ?? throw new InvalidOperationException("kill did not start");
        var error = await kill.StandardError.ReadToEndAsync();
        await kill.WaitForExitAsync();
        Assert.True(kill.ExitCode == 0, $"kill -{signal} {pid} failed: {error}");
    }

    /// <summary>Waits until the process is (or is no longer) in the stopped state 'T' of /proc/PID/stat.</summary>
    private static async Task<bool> WaitForStateAsync(int pid, bool stopped)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var stat = await File.ReadAllTextAsync($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            if ((state == 'T') == stopped)
            {
                return true;
            }
            await Task.Delay(10);
        }
        return false;
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HungRedisCollection
{
    public const string Name = "Hung Redis (runs alone)";
}
