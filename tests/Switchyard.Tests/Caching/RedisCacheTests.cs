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
            Cache = TestGateway.CacheFromEnvironment(name => environment?.GetValueOrDefault(name) ?? (name == "REDIS_URL" ? $"redis://127.0.0.1:{redisPort}" : null)),
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

    [Fact]
    public async Task Tls_with_the_test_ca_and_an_acl_user_limited_to_the_key_prefix_serve_the_cache()
    {
        await using var tls = await RedisTlsTests.TlsServer.StartAsync();
        var admin = new RedisCli(tls.Server.Port) { TlsCaFile = tls.Ca.CaPemFile };
        // The gateway's user may only touch its own keys (and no pub/sub channel); the default user is switched off.
        await admin.RunAsync("ACL", "SETUSER", "gateway", "on", ">gw-s3cret", "~switchyard:*", "resetchannels", "+@all");
        await admin.RunAsync("ACL", "SETUSER", "default", "off");
        await using var sim = await OpenAiSimulator.StartAsync();
        var env = new Dictionary<string, string>
        {
            ["CACHE_STORE"] = "gcp-memory-store", ["REDIS_URL"] = $"rediss://127.0.0.1:{tls.Server.Port}", ["REDIS_TLS_CERTS"] = tls.Ca.CaPemFile,
            ["REDIS_USERNAME"] = "gateway", ["REDIS_PASSWORD"] = "gw-s3cret",
        };
        await using var gw = await StartGatewayAsync(tls.Server.Port, env);
        var config = Config(sim.BaseUrl);

        await AskAsync(gw, config, Requests.Chat("over tls", stream: true));
        var (hit, _) = await AskAsync(gw, config, Requests.Chat("over tls", stream: true));
        Assert.Equal("HIT", hit.Header("x-portkey-cache-status"));
        Assert.Single(sim.Requests);

        // Without the CA the certificate is refused: requests are still served, uncached, and health says why.
        env.Remove("REDIS_TLS_CERTS");
        await using var untrusting = await StartGatewayAsync(tls.Server.Port, env);
        var (served, _) = await AskAsync(untrusting, config, Requests.Chat("over tls", stream: true));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("MISS", served.Header("x-portkey-cache-status"));
        var health = (await (await untrusting.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("cache");
        Assert.Equal("degraded", health.GetProperty("state").GetString());
        Assert.Contains("certificate", health.GetProperty("problem").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_cluster_serves_the_cache_and_an_entry_moved_to_another_node_mid_run_still_hits()
    {
        await using var cluster = await RedisCluster.StartAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await StartGatewayAsync(cluster.Nodes[0].Port, new Dictionary<string, string>
        {
            ["REDIS_URL"] = $"redis://127.0.0.1:{cluster.Nodes[0].Port}", ["REDIS_MODE"] = "cluster",
        });
        var config = Config(sim.BaseUrl);
        for (var i = 0; i < 6; i++)
        {
            await AskAsync(gw, config, Requests.Chat($"cluster question {i}"));
        }
        var keys = new List<(string Key, int Node)>();
        for (var n = 0; n < 3; n++)
        {
            foreach (var k in await cluster.Admin(n).ItemsAsync("KEYS", "switchyard:resp:*"))
            {
                keys.Add((k, n));
            }
        }
        Assert.Equal(6, keys.Count);
        Assert.True(keys.Select(k => k.Node).Distinct().Count() > 1, "six keys should spread over the nodes");

        // Reshard the slot of one entry to another node while the gateway runs: MOVED is followed, the entry still hits.
        var (key, from) = keys[0];
        var to = (from + 1) % 3;
        await cluster.MoveSlotAsync(key, from, to);
        Assert.Equal(to, await cluster.OwnerOfAsync(key));
        for (var i = 0; i < 6; i++)
        {
            var (response, _) = await AskAsync(gw, config, Requests.Chat($"cluster question {i}"));
            Assert.Equal("HIT", response.Header("x-portkey-cache-status"));
        }
        Assert.Equal(6, sim.Requests.Count);
        Assert.Equal("ok", (await (await gw.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("cache").GetProperty("state").GetString());
    }

    [Fact]
    public async Task Memorystore_iam_auth_uses_the_workload_token_as_password_and_picks_up_a_renewed_one()
    {
        await using var google = await Switchyard.Simulators.Google.GoogleSimulator.StartAsync();
        // Tokens with 302 s left are renewed 5 minutes before expiry, i.e. after 2 s.
        google.MetadataTokenLifetimeSeconds = 302;
        await using var redis = await RedisServer.StartAsync("--requirepass", "ya29.metadata-1");
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with
        {
            Gcp = s.Gcp with { MetadataHost = google.MetadataHost },
            Cache = TestGateway.CacheFromEnvironment(name => name switch
            {
                "CACHE_STORE" => "memory-store", "REDIS_URL" => $"redis://127.0.0.1:{redis.Port}", "GCP_REDIS_AUTH_MODE" => "workload", _ => null,
            }),
        });
        var config = Config(sim.BaseUrl);
        await AskAsync(gw, config, Requests.Chat("iam one"));
        Assert.Equal("HIT", (await AskAsync(gw, config, Requests.Chat("iam one"))).Response.Header("x-portkey-cache-status"));

        // The password rotates to the next token and existing connections are dropped.
        await new RedisCli(redis.Port) { Password = "ya29.metadata-1" }.RunAsync("CONFIG", "SET", "requirepass", "ya29.metadata-2");
        await new RedisCli(redis.Port) { Password = "ya29.metadata-2" }.RunAsync("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
        await Task.Delay(2500);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        string status;
        do
        {
            status = (await AskAsync(gw, config, Requests.Chat("iam one"))).Response.Header("x-portkey-cache-status");
            if (status != "HIT")
            {
                await Task.Delay(200);
            }
        }
        while (status != "HIT" && DateTime.UtcNow < deadline);
        Assert.Equal("HIT", status);
        Assert.True(google.MetadataTokensIssued >= 2);
    }
}
