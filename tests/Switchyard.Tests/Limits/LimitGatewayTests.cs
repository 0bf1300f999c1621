using System.Net;
using System.Text.Json;
using Switchyard.Core;
using Switchyard.Core.Limits;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Gateway.Hosting;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Redis;
using Xunit;

namespace Switchyard.Tests.Limits;

/// <summary>The real gateway with key, team and model limits: what a client sees on 429 and 412, settlement of streamed usage, Redis restarts.</summary>
public sealed class LimitGatewayTests
{
    private const string AliceKey = "sy-limits-alice";
    private const string BobKey = "sy-limits-bob";

    private static string Keys(string aliceExtra = "", string bobExtra = "") => $"""
        keys:
          - name: alice
            hash: {ApiKeyHash.Format(AliceKey)}
            scopes: [completions.write]
        {aliceExtra}
          - name: bob
            team: ml-platform
            hash: {ApiKeyHash.Format(BobKey)}
            scopes: [completions.write]
        {bobExtra}
        """;

    private static async Task<TestGateway> StartAsync(string keys, string? limits = null, Func<GatewaySettings, GatewaySettings>? settings = null)
    {
        var keyDir = Directory.CreateTempSubdirectory("switchyard-keys-").FullName;
        await File.WriteAllTextAsync(Path.Combine(keyDir, "keys.yaml"), keys);
        string? limitsDir = null;
        if (limits is not null)
        {
            limitsDir = Directory.CreateTempSubdirectory("switchyard-limits-").FullName;
            await File.WriteAllTextAsync(Path.Combine(limitsDir, "limits.yaml"), limits);
        }
        return await TestGateway.StartAsync(settings: s =>
            {
                s = s with { UsageLimits = new LimitOptions { Path = limitsDir, ReloadDebounce = TimeSpan.FromMilliseconds(50) } };
                return settings is null ? s : settings(s);
            },
            server: o => o with { Auth = new AuthOptions { Keys = true, ApiKeysPath = keyDir, ReloadDebounce = TimeSpan.FromMilliseconds(50) } });
    }

    private static HttpRequestMessage Chat(Uri upstream, string key, int? maxTokens = null, bool stream = false)
    {
        var body = Requests.Chat(stream: stream, includeUsage: stream);
        if (maxTokens is { } m)
        {
            body = body[..^1] + $",\"max_tokens\":{m}}}";
        }
        return TestGateway.Post("/v1/chat/completions", body, [.. Requests.HeaderMode(upstream), ("x-portkey-api-key", key)]);
    }

    private static async Task Eventually(Func<Task<bool>> condition) => await RedisLimitCounterTests.Eventually(condition);

    [Fact]
    public async Task A_full_key_rate_limit_answers_429_with_retry_after_and_ratelimit_headers_and_never_reaches_the_upstream()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await StartAsync(Keys(aliceExtra: "    rate_limits: [{requests: 2, per: minute}]"));
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(Chat(sim.BaseUrl, AliceKey))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(Chat(sim.BaseUrl, AliceKey))).StatusCode);
        var refused = await gw.SendAsync(Chat(sim.BaseUrl, AliceKey));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var body = await refused.JsonAsync();
        Assert.Equal("failure", body.GetProperty("status").GetString());
        Assert.Equal("05", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("Portkey Error: Rate limit exceeded: key 'alice' allows 2 requests per minute. Error Code: 05", body.GetProperty("message").GetString());
        Assert.InRange(int.Parse(refused.Header("Retry-After"), System.Globalization.CultureInfo.InvariantCulture), 1, 63);
        Assert.Equal("2", refused.Header("x-ratelimit-limit-requests"));
        Assert.Equal("0", refused.Header("x-ratelimit-remaining-requests"));
        Assert.NotEmpty(refused.Header("x-ratelimit-reset-requests"));
        Assert.Equal("2", refused.Header("x-ratelimit-limit"));
        Assert.Equal(2, sim.Requests.Count);
        // Bob has no rules of his own and no team rules: unaffected.
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(Chat(sim.BaseUrl, BobKey))).StatusCode);
        var health = (await (await gw.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("usage_limits");
        Assert.Equal("local", health.GetProperty("state").GetString());
        Assert.NotNull(gw.Engine.Limits);
        // The refusal is counted by kind and configured subject.
        var metrics = await gw.Client.GetStringAsync("/metrics");
        var refusals = metrics.Split('\n').Where(l => l.StartsWith("switchyard_limits_refusals", StringComparison.Ordinal) && !l.StartsWith('#')).ToList();
        Assert.Contains(refusals, l => l.Contains("\"rate_limit\"", StringComparison.Ordinal) && l.Contains("\"alice\"", StringComparison.Ordinal)
            && l.Contains("\"key\"", StringComparison.Ordinal) && l.TrimEnd().EndsWith(" 1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_team_token_budget_from_limits_path_settles_streamed_usage_and_then_answers_412_code_04()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await StartAsync(Keys(), limits: """
            teams:
              ml-platform: {budgets: [{tokens: 2000, period: total}]}
            """);
        var health = (await (await gw.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("usage_limits");
        Assert.Equal("ok", health.GetProperty("file_state").GetString());
        Assert.Equal(1, health.GetProperty("teams").GetInt32());

        var stream = await gw.SendAsync(Chat(sim.BaseUrl, BobKey, maxTokens: 50, stream: true));
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        var text = await stream.Content.ReadAsStringAsync();
        var usage = text.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l[6..]).RootElement).Last(e => e.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object)
            .GetProperty("usage").GetProperty("total_tokens").GetInt64();
        Assert.True(usage > 0);
        var team = new LimitSubject(LimitSubjectKind.Team, "ml-platform");
        // The stream's own usage, not the 50 + prompt estimate reserved, is what the budget keeps.
        await Eventually(async () => (await gw.Engine.Limits!.StatusAsync(team, CancellationToken.None))[0].Used == usage);

        var refused = await gw.SendAsync(Chat(sim.BaseUrl, BobKey, maxTokens: 2000));
        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        var body = await refused.JsonAsync();
        Assert.Equal("04", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("Portkey Error: Usage limit exceeded: team 'ml-platform' has used its budget of 2000 tokens in total. Error Code: 04",
            body.GetProperty("message").GetString());
        Assert.Single(sim.Requests);
        var metrics = await gw.Client.GetStringAsync("/metrics");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("switchyard_limits_budget_used_ratio", StringComparison.Ordinal) && l.Contains("\"ml-platform\"", StringComparison.Ordinal));
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("switchyard_limits_refusals", StringComparison.Ordinal) && l.Contains("\"budget\"", StringComparison.Ordinal)
            && l.Contains("\"team\"", StringComparison.Ordinal));
        // Alice is in no team: the team budget does not touch her.
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(Chat(sim.BaseUrl, AliceKey, maxTokens: 2000))).StatusCode);
    }

    [Fact]
    public async Task With_redis_a_budget_survives_a_gateway_restart_and_a_redis_outage_falls_back_to_local_counting_then_recovers()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        var keys = Keys(aliceExtra: "    budgets: [{tokens: 100000, period: month}]");
        Func<GatewaySettings, GatewaySettings> withRedis = s => s with
        {
            Cache = TestGateway.CacheFromEnvironment(n => n switch { "CACHE_STORE" => "redis", "REDIS_URL" => $"redis://127.0.0.1:{redis.Port}", _ => null }),
            UsageLimits = s.UsageLimits with { RedisTimeout = TimeSpan.FromSeconds(2), RedisRetryInterval = TimeSpan.FromMilliseconds(200) },
        };
        var alice = new LimitSubject(LimitSubjectKind.Key, "alice");
        long used;
        await using (var first = await StartAsync(keys, settings: withRedis))
        {
            var answer = await first.SendAsync(Chat(sim.BaseUrl, AliceKey, maxTokens: 20));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            used = (await answer.JsonAsync()).GetProperty("usage").GetProperty("total_tokens").GetInt64();
            await Eventually(async () => (await first.Engine.Limits!.StatusAsync(alice, CancellationToken.None))[0].Used == used);
        }
        await using var second = await StartAsync(keys, settings: withRedis);
        var status = await second.Engine.Limits!.StatusAsync(alice, CancellationToken.None);
        Assert.Equal(used, status[0].Used);
        Assert.Equal("redis", status[0].Source);

        await redis.StopAsync();
        Assert.Equal(HttpStatusCode.OK, (await second.SendAsync(Chat(sim.BaseUrl, AliceKey, maxTokens: 20))).StatusCode);
        var health = (await (await second.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("usage_limits");
        Assert.Equal("degraded", health.GetProperty("state").GetString());
        Assert.False(string.IsNullOrEmpty(health.GetProperty("problem").GetString()));

        await redis.RestartAsync();
        await Eventually(async () =>
        {
            await Task.Delay(250);
            Assert.Equal(HttpStatusCode.OK, (await second.SendAsync(Chat(sim.BaseUrl, AliceKey, maxTokens: 20))).StatusCode);
            return second.Engine.Limiter.State == "redis";
        });
        health = (await (await second.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("usage_limits");
        Assert.Equal("redis", health.GetProperty("state").GetString());
    }
}
