using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using Switchyard.Core.Limits;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Policy;
using Switchyard.Tests.Redis;
using Xunit;
using static Switchyard.Tests.Mcp.Policy.McpPolicyTestKit;

namespace Switchyard.Tests.Mcp.Policy;

/// <summary>Rate limits on tools/call: per caller or per server, each tool on its own, sliding and fixed windows, and Redis shared by replicas.</summary>
public sealed class McpRateLimitTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 8, 3, 0, 0, 500, TimeSpan.Zero);

    private static async Task<McpAdmission> CallAsync(McpPolicy policy, McpUpstreamServer server, string caller, string tool) =>
        await policy.AdmitCallAsync(Caller(caller), Route(server), server, tool, CancellationToken.None);

    [Fact]
    public async Task Per_caller_counts_each_caller_and_per_server_counts_everyone()
    {
        var time = new FakeTimeProvider(T0);
        var perCaller = UpstreamServer("a", limits: Limit(2, TimeSpan.FromMinutes(1)));
        var perServer = UpstreamServer("b", limits: Limit(2, TimeSpan.FromMinutes(1), per: McpRateScope.Server));
        var policy = NewPolicy(time: time);

        Assert.True((await CallAsync(policy, perCaller, "alice", "echo")).Allowed);
        Assert.True((await CallAsync(policy, perCaller, "alice", "echo")).Allowed);
        var third = await CallAsync(policy, perCaller, "alice", "echo");
        Assert.False(third.Allowed);
        Assert.True((await CallAsync(policy, perCaller, "bob", "echo")).Allowed);

        Assert.True((await CallAsync(policy, perServer, "alice", "echo")).Allowed);
        Assert.True((await CallAsync(policy, perServer, "bob", "echo")).Allowed);
        var shared = await CallAsync(policy, perServer, "carol", "echo");
        Assert.False(shared.Allowed);
        Assert.Equal(429, shared.HttpStatus);
        Assert.Equal(McpRateLimiter.RateLimitedCode, shared.ErrorCode);
        Assert.Contains("'echo'", shared.Message, StringComparison.Ordinal);
        Assert.Contains("for all callers", shared.Message, StringComparison.Ordinal);
        Assert.NotNull(shared.RetryAfter);
        Assert.InRange(shared.RetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(63));
    }

    [Fact]
    public async Task A_star_rule_counts_each_tool_on_its_own_and_a_named_rule_only_its_tool()
    {
        var time = new FakeTimeProvider(T0);
        var server = UpstreamServer("everything", limits: [Limit(3, TimeSpan.FromMinutes(1)), Limit(1, TimeSpan.FromMinutes(1), tool: "longRunningOperation")]);
        var policy = NewPolicy(time: time);
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await CallAsync(policy, server, "alice", "echo")).Allowed);
        }
        Assert.False((await CallAsync(policy, server, "alice", "echo")).Allowed);
        // Another tool still works: its own count under the * rule.
        Assert.True((await CallAsync(policy, server, "alice", "add")).Allowed);
        Assert.True((await CallAsync(policy, server, "alice", "longRunningOperation")).Allowed);
        var second = await CallAsync(policy, server, "alice", "longRunningOperation");
        Assert.False(second.Allowed);
        Assert.Contains("1 calls per 60s per caller", second.Message, StringComparison.Ordinal);
        Assert.True((await CallAsync(policy, server, "alice", "add")).Allowed);
        // A refused call is not counted: the tool's other rule is untouched by refusals.
        Assert.True((await CallAsync(policy, server, "alice", "add")).Allowed);
        Assert.False((await CallAsync(policy, server, "alice", "add")).Allowed);
    }

    [Fact]
    public async Task A_fixed_window_resets_at_its_boundary_and_says_when()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 8, 3, 0, 10, TimeSpan.Zero));
        var server = UpstreamServer("fixed", limits: Limit(2, TimeSpan.FromMinutes(1), sliding: false));
        var policy = NewPolicy(time: time);
        Assert.True((await CallAsync(policy, server, "alice", "echo")).Allowed);
        Assert.True((await CallAsync(policy, server, "alice", "echo")).Allowed);
        var refused = await CallAsync(policy, server, "alice", "echo");
        Assert.False(refused.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(50), refused.RetryAfter);
        time.Advance(TimeSpan.FromSeconds(49));
        Assert.False((await CallAsync(policy, server, "alice", "echo")).Allowed);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await CallAsync(policy, server, "alice", "echo")).Allowed);
        Assert.True((await CallAsync(policy, server, "alice", "echo")).Allowed);
        Assert.False((await CallAsync(policy, server, "alice", "echo")).Allowed);
    }

    [Fact]
    public async Task A_sliding_window_frees_calls_as_they_leave_it()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 8, 3, 0, 0, TimeSpan.Zero));
        var server = UpstreamServer("sliding", limits: Limit(2, TimeSpan.FromMinutes(1)));
        var policy = NewPolicy(time: time);
        Assert.True((await CallAsync(policy, server, "alice", "echo")).Allowed);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True((await CallAsync(policy, server, "alice", "echo")).Allowed);
        var refused = await CallAsync(policy, server, "alice", "echo");
        Assert.False(refused.Allowed);
        // The first call leaves the window about a minute after it was made (sub-buckets of 3 s).
        Assert.InRange(refused.RetryAfter!.Value, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(34));
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.False((await CallAsync(policy, server, "alice", "echo")).Allowed);
        time.Advance(refused.RetryAfter!.Value - TimeSpan.FromSeconds(20));
        Assert.True((await CallAsync(policy, server, "alice", "echo")).Allowed);
        // The second call is still in the window: one slot only.
        Assert.False((await CallAsync(policy, server, "alice", "echo")).Allowed);
    }

    [Fact]
    public async Task Two_policy_instances_on_one_redis_share_their_counts()
    {
        await using var redis = await RedisServer.StartAsync();
        var options = new ConfigurationOptions { AbortOnConnectFail = false, ConnectTimeout = 5_000, AsyncTimeout = 5_000, SyncTimeout = 5_000 };
        options.EndPoints.Add("127.0.0.1", redis.Port);
        await using var muxA = await ConnectionMultiplexer.ConnectAsync(options);
        await using var muxB = await ConnectionMultiplexer.ConnectAsync(options);
        // Redis expires fixed-window counters at an absolute time (the window's end plus an hour) computed from this clock,
        // so it must be near the real time: the start of the next minute, plus the same half second as T0.
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 60_000 + 1) * 60_000 + 500));
        RedisLimitCounterStore Store(ConnectionMultiplexer mux) => new(_ => Task.FromResult(mux.GetDatabase()), TimeSpan.FromSeconds(5), time);
        var a = new McpPolicy(Pins(), new McpRateLimiter(Store(muxA), time, NullLogger.Instance));
        var b = new McpPolicy(Pins(), new McpRateLimiter(Store(muxB), time, NullLogger.Instance));
        var server = UpstreamServer("everything", limits: [Limit(3, TimeSpan.FromMinutes(1)), Limit(2, TimeSpan.FromMinutes(1), tool: "add", sliding: false)]);

        Assert.True((await CallAsync(a, server, "alice", "echo")).Allowed);
        Assert.True((await CallAsync(b, server, "alice", "echo")).Allowed);
        Assert.True((await CallAsync(a, server, "alice", "echo")).Allowed);
        Assert.False((await CallAsync(b, server, "alice", "echo")).Allowed);
        Assert.False((await CallAsync(a, server, "alice", "echo")).Allowed);
        Assert.True((await CallAsync(b, server, "bob", "echo")).Allowed);
        Assert.True((await CallAsync(b, server, "alice", "add")).Allowed);
        Assert.True((await CallAsync(a, server, "alice", "add")).Allowed);
        Assert.False((await CallAsync(b, server, "alice", "add")).Allowed);
        Assert.Equal("redis", a.Limits.State);
        var keys = redis.Port; // the counters are in that server, under the gateway's prefix
        var server0 = muxA.GetServer("127.0.0.1", keys);
        Assert.Contains(server0.Keys(pattern: "*mcprl:everything:*"), k => k.ToString().Contains("key:alice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task While_redis_fails_a_replica_counts_locally()
    {
        var time = new FakeTimeProvider(T0);
        var failing = new RedisLimitCounterStore(_ => Task.FromException<IDatabase>(new InvalidOperationException("redis is down")),
            TimeSpan.FromSeconds(1), time);
        var policy = new McpPolicy(Pins(), new McpRateLimiter(failing, time, NullLogger.Instance));
        var server = UpstreamServer("everything", limits: Limit(1, TimeSpan.FromMinutes(1)));
        Assert.True((await CallAsync(policy, server, "alice", "echo")).Allowed);
        Assert.False((await CallAsync(policy, server, "alice", "echo")).Allowed);
        Assert.Equal("degraded", policy.Limits.State);
    }
}
