using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Caching;
using Switchyard.Core.Pipeline;
using Switchyard.Gateway;
using Switchyard.Tests.Logs.Delivery;
using Switchyard.Tests.Redis;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Caching;

/// <summary>Cache variables become settings (Portkey's names), wrong values are refused by name, and /v1/health shows the store.</summary>
public sealed class CacheSettingsTests
{
    private static Func<string, string?> Env(params (string, string)[] values)
    {
        var map = values.ToDictionary(v => v.Item1, v => v.Item2);
        return name => map.GetValueOrDefault(name);
    }

    [Fact]
    public void The_store_is_memory_by_default_and_redis_for_every_managed_flavour()
    {
        Assert.Equal("memory", CacheOptions.FromEnvironment(Env()).Store);
        Assert.Equal("redis", CacheOptions.FromEnvironment(Env(("REDIS_URL", "redis://cache:6379"))).Store);
        foreach (var flavour in new[] { "redis", "valkey", "memory-store", "gcp-memory-store", "aws-elastic-cache", "azure-redis", "custom" })
        {
            var o = CacheOptions.FromEnvironment(Env(("CACHE_STORE", flavour), ("REDIS_URL", "rediss://cache:6380")));
            Assert.Equal("redis", o.Store);
            Assert.Equal(flavour, o.StoreName);
        }
        Assert.Equal("none", CacheOptions.FromEnvironment(Env(("CACHE_STORE", "none"))).Store);

        var full = CacheOptions.FromEnvironment(Env(("REDIS_HOST", "10.0.0.5"), ("REDIS_PORT", "6380"), ("REDIS_MODE", "cluster"),
            ("REDIS_TLS_ENABLED", "true"), ("REDIS_TLS_CERTS", "/etc/ssl/ca.pem"), ("REDIS_USERNAME", "gw"), ("REDIS_PASSWORD", "p@ss"),
            ("GCP_REDIS_AUTH_MODE", "workload"), ("CACHE_TIMEOUT_MS", "100"), ("SEMANTIC_CACHE_SIMILARITY_THRESHOLD", "0.9"),
            ("SEMANTIC_CACHE_EMBEDDING_PROVIDER", "openai"), ("OPENAI_API_KEY", "sk-embed")));
        Assert.Equal("redis://10.0.0.5:6380", full.RedisUrl);
        Assert.True(full.RedisCluster && full.RedisTls && full.GcpRedisWorkloadAuth);
        Assert.Equal(("gw", "p@ss", "/etc/ssl/ca.pem"), (full.RedisUsername, full.RedisPassword, full.RedisTlsCaFile));
        Assert.Equal(TimeSpan.FromMilliseconds(100), full.Timeout);
        Assert.Equal(0.9, full.SimilarityThreshold);
        Assert.Equal(("openai", "sk-embed"), (full.EmbeddingProvider, full.EmbeddingApiKey));
    }

    [Theory]
    [InlineData("CACHE_STORE", "mongo", "CACHE_STORE=mongo")]
    [InlineData("CACHE_STORE", "redis", "needs REDIS_URL")]
    [InlineData("REDIS_MODE", "sentinel", "REDIS_MODE=sentinel")]
    [InlineData("SEMANTIC_CACHE_SIMILARITY_THRESHOLD", "95", "SEMANTIC_CACHE_SIMILARITY_THRESHOLD=95")]
    [InlineData("AWS_REDIS_AUTH_MODE", "iam", "AWS_REDIS_AUTH_MODE=iam")]
    [InlineData("GCP_REDIS_AUTH_MODE", "key", "GCP_REDIS_AUTH_MODE=key")]
    [InlineData("REDIS_CLUSTER_ENDPOINTS", "a:1,b", "'b'")]
    public void A_wrong_value_is_refused_with_its_name(string name, string value, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => CacheOptions.FromEnvironment(Env((name, value))));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Redis_client_options_come_from_the_url_and_the_separate_variables_win()
    {
        var settings = ServerOptions.FromEnvironment(Env(("REDIS_URL", "rediss://alice:secret@cache.internal:6380/2"), ("REDIS_PASSWORD", "rotated"))).Engine;
        var client = SwitchyardEngine.RedisOptionsFor(settings, TimeProvider.System);
        Assert.Equal([("cache.internal", 6380)], client.Endpoints);
        Assert.True(client.Tls);
        Assert.Equal(("alice", "rotated"), (client.Username, client.Password));
        Assert.Equal(2, client.Database);
        Assert.False(client.Cluster);

        var cluster = SwitchyardEngine.RedisOptionsFor(ServerOptions.FromEnvironment(Env(("REDIS_CLUSTER_ENDPOINTS", "10.0.0.1:7000,10.0.0.2:7001"))).Engine, TimeProvider.System);
        Assert.True(cluster.Cluster);
        Assert.Equal([("10.0.0.1", 7000), ("10.0.0.2", 7001)], cluster.Endpoints);
    }

    [Fact]
    public async Task A_retired_redis_client_setting_is_warned_about_at_start_and_the_engine_shares_one_redis_connection()
    {
        Assert.Null(CacheOptions.FromEnvironment(Env()).IgnoredRedisClient);
        var port = RedisServer.FreePort();
        var settings = TestGateway.FastSettings(Directory.CreateTempSubdirectory("switchyard-cache-").FullName) with
        {
            Logs = new() { Store = "none" },
            Cache = CacheOptions.FromEnvironment(Env(("REDIS_URL", $"redis://127.0.0.1:{port}"), ("REDIS_CLIENT", "switchyard"))),
        };
        var logger = new CapturingLogger();
        var engine = new SwitchyardEngine(settings, new SwitchyardEngineOptions { Environment = _ => null, Loggers = new OneLoggerFactory(logger) });
        Assert.Equal(1, logger.Count(LogLevel.Warning, "REDIS_CLIENT=switchyard no longer has an effect"));
        Assert.NotNull(engine.Redis);
        Assert.Same(engine.Redis, ((RedisCacheStore)((FailSafeCacheStore)engine.Cache!.Store).Inner).Connection);

        // Nothing listens on the port: start-up reports it, and shutdown is not held up by the connection.
        engine.Start();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (logger.Count(LogLevel.Warning, "is not reachable yet") == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal(1, logger.Count(LogLevel.Warning, $"127.0.0.1:{port}"));
        var stopping = DateTime.UtcNow;
        await engine.DisposeAsync();
        Assert.True(DateTime.UtcNow - stopping < TimeSpan.FromSeconds(3));
        Assert.NotNull(engine.Redis.Problem);

        await using var memory = new SwitchyardEngine(settings with { Cache = new CacheOptions() }, new SwitchyardEngineOptions { Environment = _ => null, Loggers = new OneLoggerFactory(logger) });
        Assert.Null(memory.Redis);
    }

    private sealed class OneLoggerFactory(ILogger logger) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => logger;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Health_reports_the_cache_store()
    {
        await using var gw = await TestGateway.StartAsync();
        var health = await gw.Client.GetAsync("/v1/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var cache = (await health.JsonAsync()).GetProperty("cache");
        Assert.Equal("memory", cache.GetProperty("store").GetString());
        Assert.Equal("ok", cache.GetProperty("state").GetString());
        Assert.Equal(0, cache.GetProperty("errors").GetInt64());
        Assert.Equal(JsonValueKind.Object, cache.GetProperty("semantic").ValueKind);

        await using var off = await TestGateway.StartAsync(settings: s => s with { Cache = s.Cache with { Store = "none" } });
        var offCache = (await (await off.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("cache");
        Assert.Equal("disabled", offCache.GetProperty("state").GetString());
    }
}
