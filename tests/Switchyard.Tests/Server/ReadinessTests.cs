using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Redis;
using Xunit;

namespace Switchyard.Tests.Server;

/// <summary>
/// <c>/v1/health/ready</c> (Kubernetes readiness) against <c>/v1/health</c> (liveness): not ready until the config
/// directory is read, from the stop signal on (while the listener drains), and, when asked, while the cache store fails.
/// </summary>
public sealed class ReadinessTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyAsync(HttpClient http, string path = "/v1/health/ready")
    {
        var response = await http.GetAsync(path);
        return (response.StatusCode, await response.JsonAsync());
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"timed out waiting for {what}");
            }
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Not_ready_until_the_config_directory_can_be_read_while_health_stays_200()
    {
        var missing = Path.Combine(Path.GetTempPath(), "switchyard-not-yet-" + Guid.NewGuid().ToString("N"));
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Configs = s.Configs with { Directory = missing } });
        try
        {
            foreach (var path in new[] { "/v1/health/ready", "/health/ready" })
            {
                var (status, body) = await ReadyAsync(gw.Client, path);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
                Assert.Equal("not_ready", body.GetProperty("status").GetString());
                var reason = Assert.Single(body.GetProperty("reasons").EnumerateArray()).GetString();
                Assert.Contains(missing, reason);
                Assert.Contains("does not exist", reason);
            }
            var health = await gw.Client.GetAsync("/v1/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            var readiness = (await health.JsonAsync()).GetProperty("readiness");
            Assert.Equal("not_ready", readiness.GetProperty("state").GetString());

            // The volume arrives late (a slow mount): the store's poll finds it and the replica becomes ready.
            Directory.CreateDirectory(missing);
            await WaitForAsync(async () => (await ReadyAsync(gw.Client)).Status == HttpStatusCode.OK, "readiness once the directory exists");
            var ready = await ReadyAsync(gw.Client);
            Assert.Equal("ready", ready.Body.GetProperty("status").GetString());
            Assert.Empty(ready.Body.GetProperty("reasons").EnumerateArray());
        }
        finally
        {
            Directory.Delete(missing, recursive: true);
        }
    }

    [Fact]
    public async Task On_stop_readiness_turns_503_at_once_and_the_listener_serves_until_the_drain_time_has_passed()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gw = await TestGateway.StartAsync(time: clock, server: o => o with { ShutdownDrain = TimeSpan.FromSeconds(5) });
        Assert.Equal(HttpStatusCode.OK, (await ReadyAsync(gw.Client)).Status);

        var stopping = gw.App.StopAsync();
        await WaitForAsync(async () => (await ReadyAsync(gw.Client)).Status == HttpStatusCode.ServiceUnavailable, "readiness to turn 503");
        var (_, body) = await ReadyAsync(gw.Client);
        Assert.Contains("shutting down", body.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));

        // The drain's clock has not moved: the server keeps answering, on fresh connections too, and asks clients to leave.
        for (var i = 0; i < 5; i++)
        {
            using var fresh = new HttpClient { BaseAddress = gw.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
            var health = await fresh.GetAsync("/v1/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.True(health.Headers.ConnectionClose);
            Assert.Equal("not_ready", (await health.JsonAsync()).GetProperty("readiness").GetProperty("state").GetString());
        }
        Assert.False(stopping.IsCompleted);

        // Once the drain time passes, the graceful stop runs and the listener goes away. (Advanced in steps: the drain's
        // timer may be created a moment after readiness flips.)
        await WaitForAsync(async () =>
        {
            clock.Advance(TimeSpan.FromSeconds(5));
            return await Task.WhenAny(stopping, Task.Delay(200)) == stopping;
        }, "the stop to complete after the drain");
        await stopping;
        using var after = new HttpClient { BaseAddress = gw.BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
        await Assert.ThrowsAsync<HttpRequestException>(() => after.GetAsync("/v1/health"));
    }

    [Fact]
    public async Task With_readiness_requiring_the_cache_a_failing_redis_makes_the_replica_not_ready_until_it_returns()
    {
        await using var redis = await RedisServer.StartAsync();
        var env = new Dictionary<string, string> { ["REDIS_URL"] = $"redis://127.0.0.1:{redis.Port}" };
        await using var gw = await TestGateway.StartAsync(
            settings: s => s with { Cache = TestGateway.CacheFromEnvironment(env.GetValueOrDefault) },
            server: o => o with { ReadinessRequiresCache = true });
        await using var relaxed = await TestGateway.StartAsync(settings: s => s with { Cache = TestGateway.CacheFromEnvironment(env.GetValueOrDefault) });
        Assert.Equal(HttpStatusCode.OK, (await ReadyAsync(gw.Client)).Status);

        await redis.StopAsync();
        await WaitForAsync(async () => (await ReadyAsync(gw.Client)).Status == HttpStatusCode.ServiceUnavailable, "readiness to notice Redis is gone");
        var (_, body) = await ReadyAsync(gw.Client);
        Assert.Contains(body.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("cache store redis is failing", StringComparison.Ordinal));
        // Without READINESS_REQUIRES_CACHE the cache is a degraded feature, not a reason to take the replica out.
        Assert.Equal(HttpStatusCode.OK, (await ReadyAsync(relaxed.Client)).Status);

        // No request reaches a replica that is not ready; readiness itself must find out that Redis is back.
        await redis.RestartAsync();
        await WaitForAsync(async () => (await ReadyAsync(gw.Client)).Status == HttpStatusCode.OK, "readiness once Redis is back", seconds: 60);
    }
}
