using System.Diagnostics.Metrics;
using System.Net;
using Switchyard.Core.Caching;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Redis;
using Xunit;

namespace Switchyard.Tests.Caching;

/// <summary>The response cache on a real redis-server: shared by replicas, surviving a Redis outage without failing a request.</summary>
public sealed class RedisCacheTests
{
    private static Task<TestGateway> StartGatewayAsync(int redisPort, IReadOnlyDictionary<string, string>? environment = null) =>
        TestGateway.StartAsync(settings: s => s with
        {
            Cache = CacheOptions.FromEnvironment(name => environment?.GetValueOrDefault(name) ?? (name == "REDIS_URL" ? $"redis://127.0.0.1:{redisPort}" : null)),
        });

    private static string Config(Uri upstream, string mode = "simple") =>
        $"{{\"cache\":{{\"mode\":\"{mode}\"}},\"provider\":\"openai\",\"api_key\":\"sk-redis\",\"custom_host\":\"{upstream}\"}}";

    private static async Task<(HttpResponseMessage Response, byte[] Body)> AskAsync(TestGateway gw, string config, string body)
    {
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", body, Requests.Config(config)));
        return (response, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Replicas_share_answers_through_redis_streams_included()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var one = await StartGatewayAsync(redis.Port);
        await using var two = await StartGatewayAsync(redis.Port);
        var config = Config(sim.BaseUrl);

        var (miss, missBody) = await AskAsync(one, config, Requests.Chat("shared across replicas"));
        var (hit, hitBody) = await AskAsync(two, config, Requests.Chat("shared across replicas"));
        var (streamMiss, streamMissBody) = await AskAsync(two, config, Requests.Chat("a streamed answer", stream: true));
        var (streamHit, streamHitBody) = await AskAsync(one, config, Requests.Chat("a streamed answer", stream: true));

        Assert.Equal(("MISS", "HIT"), (miss.Header("x-portkey-cache-status"), hit.Header("x-portkey-cache-status")));
        Assert.Equal(missBody, hitBody);
        Assert.Equal(("MISS", "HIT"), (streamMiss.Header("x-portkey-cache-status"), streamHit.Header("x-portkey-cache-status")));
        Assert.Equal(streamMissBody, streamHitBody);
        Assert.Equal("text/event-stream", streamHit.Content.Headers.ContentType?.MediaType);
        Assert.Equal(2, sim.Requests.Count);
        Assert.Equal("redis", (await (await one.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("cache").GetProperty("store").GetString());
    }

    [Fact]
    public async Task No_request_fails_while_redis_is_down_and_caching_resumes_when_it_is_back()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await StartGatewayAsync(redis.Port);
        var config = Config(sim.BaseUrl);
        long errorsSeen = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Switchyard.Cache" && instrument.Name == "switchyard.cache.errors")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref errorsSeen, value));
        listener.Start();

        await AskAsync(gw, config, Requests.Chat("before the outage"));
        Assert.Equal("HIT", (await AskAsync(gw, config, Requests.Chat("before the outage"))).Response.Header("x-portkey-cache-status"));

        await redis.StopAsync();
        for (var i = 0; i < 20; i++)
        {
            var (response, body) = await AskAsync(gw, config, Requests.Chat(i % 2 == 0 ? "before the outage" : $"during the outage {i}", stream: i % 3 == 0));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("MISS", response.Header("x-portkey-cache-status"));
            Assert.NotEmpty(body);
        }
        var down = (await (await gw.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("cache");
        Assert.Equal("degraded", down.GetProperty("state").GetString());
        Assert.False(string.IsNullOrEmpty(down.GetProperty("problem").GetString()));
        Assert.True(down.GetProperty("errors").GetInt64() > 0);
        Assert.True(Interlocked.Read(ref errorsSeen) > 0);

        await redis.RestartAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        string status;
        do
        {
            await Task.Delay(200);
            await AskAsync(gw, config, Requests.Chat("after the outage"));
            status = (await AskAsync(gw, config, Requests.Chat("after the outage"))).Response.Header("x-portkey-cache-status");
        }
        while (status != "HIT" && DateTime.UtcNow < deadline);
        Assert.Equal("HIT", status);
        var up = (await (await gw.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("cache");
        Assert.Equal("ok", up.GetProperty("state").GetString());
    }
}
