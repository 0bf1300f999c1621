using System.Net;
using Xunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Protocol;
using Switchyard.Core.Pipeline;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Sessions;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Redis;

namespace Switchyard.Tests.Mcp.Sessions;

/// <summary>
/// Replica independence: two app instances sharing a real redis-server; a session initialized on the first continues on the
/// second (same Mcp-Session-Id) for its own caller and route, and nobody else can take it over.
/// </summary>
public sealed class McpSessionMigrationTests
{
    private static SwitchyardEngine RedisEngine(int port)
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-mcp-sessions-").FullName;
        return new SwitchyardEngine(TestGateway.FastSettings(dir) with
        {
            Cache = TestGateway.CacheFromEnvironment(n => n switch { "CACHE_STORE" => "redis", "REDIS_URL" => $"redis://127.0.0.1:{port}", _ => null }),
        });
    }

    private static async Task<HttpResponseMessage> CallEchoAsync(SessionTestServer server, string path, string sessionId, string caller, string text) =>
        await server.Client.SendAsync(SessionTestServer.Post(path,
            """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":""" + "\"" + text + "\"}}}", sessionId, caller));

    [Fact]
    public async Task A_session_opened_on_one_replica_continues_on_another_through_redis_for_its_caller_and_route_only()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var engine1 = RedisEngine(redis.Port);
        await using var engine2 = RedisEngine(redis.Port);
        var options = new McpOptions();
        await using var replica1 = await SessionTestServer.StartAsync(options, engine1);
        await using var replica2 = await SessionTestServer.StartAsync(options, engine2);
        Assert.IsType<RedisMcpSessionRecordStore>(replica1.Services.GetRequiredService<IMcpSessionRecordStore>());

        var sessionId = await replica1.InitializeAsync("/fs/mcp", "alice");
        using (var local = await CallEchoAsync(replica1, "/fs/mcp", sessionId, "alice", "on one"))
        {
            Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        }
        var cli = new RedisCli(redis.Port);
        Assert.Equal(1, await cli.IntegerAsync("EXISTS", RedisMcpSessionRecordStore.KeyPrefix + sessionId));
        var ttl = await cli.IntegerAsync("TTL", RedisMcpSessionRecordStore.KeyPrefix + sessionId);
        Assert.InRange(ttl, 1, (long)options.SessionIdleTimeout.TotalSeconds);

        // Another caller with the id, and the right caller on another route: both 404, and the session is not consumed.
        using (var bob = await CallEchoAsync(replica2, "/fs/mcp", sessionId, "bob", "stolen"))
        {
            Assert.Equal(HttpStatusCode.NotFound, bob.StatusCode);
        }
        using (var otherRoute = await CallEchoAsync(replica2, "/git/mcp", sessionId, "alice", "elsewhere"))
        {
            Assert.Equal(HttpStatusCode.NotFound, otherRoute.StatusCode);
        }

        using var moved = await CallEchoAsync(replica2, "/fs/mcp", sessionId, "alice", "on two");
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal(sessionId, moved.Headers.GetValues("Mcp-Session-Id").Single());
        var messages = await SessionTestServer.ReadMessagesAsync(moved);
        var result = Assert.Single(messages, m => m.Message.TryGetProperty("result", out _)).Message;
        Assert.Equal("echo: on two", result.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());

        // Once the session lives on replica 2, another caller is still refused there.
        using var bobAgain = await CallEchoAsync(replica2, "/fs/mcp", sessionId, "bob", "stolen");
        Assert.NotEqual(HttpStatusCode.OK, bobAgain.StatusCode);
    }

    [Fact]
    public async Task Without_redis_a_session_does_not_move_and_the_memory_store_is_used()
    {
        var options = new McpOptions();
        await using var replica1 = await SessionTestServer.StartAsync(options);
        await using var replica2 = await SessionTestServer.StartAsync(options);
        Assert.IsType<MemoryMcpSessionRecordStore>(replica1.Services.GetRequiredService<IMcpSessionRecordStore>());
        var sessionId = await replica1.InitializeAsync("/fs/mcp", "alice");
        using var elsewhere = await CallEchoAsync(replica2, "/fs/mcp", sessionId, "alice", "x");
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        Assert.NotNull(await replica1.Services.GetRequiredService<IMcpSessionRecordStore>().FindAsync(sessionId, CancellationToken.None));
    }

    private static InitializeRequestParams Params(string client) => new()
    {
        ProtocolVersion = "2025-11-25",
        Capabilities = new ClientCapabilities(),
        ClientInfo = new Implementation { Name = client, Version = "1.0" },
    };

    [Fact]
    public async Task Memory_records_expire_after_the_idle_timeout_renew_on_lookup_and_are_capped()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryMcpSessionRecordStore(TimeSpan.FromMinutes(30), maxRecords: 2, time);
        await store.SaveAsync("a", new McpSessionRecord("key:alice", "fs", Params("a")), default);
        time.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal("a", (await store.FindAsync("a", default))!.Initialize.ClientInfo.Name); // renews to minute 50
        time.Advance(TimeSpan.FromMinutes(20));
        Assert.NotNull(await store.FindAsync("a", default));
        time.Advance(TimeSpan.FromMinutes(31));
        Assert.Null(await store.FindAsync("a", default));

        await store.SaveAsync("b", new McpSessionRecord("key:alice", "fs", Params("b")), default);
        time.Advance(TimeSpan.FromSeconds(1));
        await store.SaveAsync("c", new McpSessionRecord("key:alice", "fs", Params("c")), default);
        time.Advance(TimeSpan.FromSeconds(1));
        await store.SaveAsync("d", new McpSessionRecord("key:alice", "fs", Params("d")), default);
        Assert.Equal(2, store.Count);
        Assert.Null(await store.FindAsync("b", default)); // the one closest to expiry went first
        Assert.NotNull(await store.FindAsync("d", default));
    }

    [Fact]
    public void A_record_round_trips_through_its_json_and_garbage_reads_as_none()
    {
        var record = new McpSessionRecord("jwt:https://idp|u1", "acme/fs", Params("inspector"));
        var back = McpSessionRecord.FromJson(record.ToJson());
        Assert.NotNull(back);
        Assert.Equal(("jwt:https://idp|u1", "acme/fs", "inspector", "2025-11-25"),
            (back.CallerId, back.RoutePath, back.Initialize.ClientInfo.Name, back.Initialize.ProtocolVersion));
        Assert.Null(McpSessionRecord.FromJson("{\"caller\":1}"u8));
        Assert.Null(McpSessionRecord.FromJson("not json"u8));
    }

    [Fact]
    public async Task With_redis_down_recording_and_lookup_degrade_to_no_record_without_throwing()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var engine = RedisEngine(redis.Port);
        var store = new RedisMcpSessionRecordStore(engine.Redis!, TimeSpan.FromMinutes(30),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<RedisMcpSessionRecordStore>.Instance);
        await store.SaveAsync("s-up", new McpSessionRecord("key:alice", "fs", Params("up")), default);
        Assert.Equal("up", (await store.FindAsync("s-up", default))!.Initialize.ClientInfo.Name);

        await redis.StopAsync();
        await store.SaveAsync("s-down", new McpSessionRecord("key:alice", "fs", Params("down")), default);
        Assert.Null(await store.FindAsync("s-up", default));
        await store.RemoveAsync("s-up", default);
    }
}
