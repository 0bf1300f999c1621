using Switchyard.Redis;
using Xunit;

namespace Switchyard.Tests.Redis;

/// <summary>The gateway's own Redis connection against a real redis-server: commands, pipelining, AUTH and ACL users, failures.</summary>
public sealed class RedisConnectionTests
{
    [Fact]
    public async Task Commands_round_trip_and_error_replies_raise_with_the_servers_code()
    {
        await using var server = await RedisServer.StartAsync();
        await using var redis = await RedisConnection.ConnectAsync(new RedisEndpoint("127.0.0.1", server.Port));
        Assert.Equal("PONG", (await redis.ExecuteAsync(["PING"])).Text);
        Assert.Equal("OK", (await redis.ExecuteAsync(["SET", "k", "héllo\r\nworld"])).Text);
        Assert.Equal("héllo\r\nworld", (await redis.ExecuteAsync(["GET", "k"])).Text);
        Assert.True((await redis.ExecuteAsync(["GET", "missing"])).IsNull);
        await redis.ExecuteAsync(["LPUSH", "list", "a"]);
        var wrong = await Assert.ThrowsAsync<RedisServerException>(() => redis.ExecuteAsync(["GET", "list"]));
        Assert.Equal("WRONGTYPE", wrong.Code);
        Assert.Equal("PONG", (await redis.ExecuteAsync(["PING"])).Text); // an error reply leaves the connection usable
    }

    [Fact]
    public async Task Many_concurrent_commands_share_one_pipelined_connection_and_each_gets_its_own_reply()
    {
        await using var server = await RedisServer.StartAsync();
        await using var redis = await RedisConnection.ConnectAsync(new RedisEndpoint("127.0.0.1", server.Port));
        var replies = await Task.WhenAll(Enumerable.Range(0, 2000).Select(_ => Task.Run(() => redis.ExecuteAsync(["INCR", "counter"]))));
        Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), replies.Select(r => r.Integer).Order());
        var echoes = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => redis.ExecuteAsync(["ECHO", "value-" + i])));
        Assert.Equal(Enumerable.Range(0, 500).Select(i => "value-" + i), echoes.Select(e => e.Text));
    }

    [Fact]
    public async Task Password_and_acl_user_authenticate_and_wrong_credentials_are_refused()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "s3cret");
        await using (var admin = await RedisConnection.ConnectAsync(new RedisEndpoint("127.0.0.1", server.Port) { Password = "s3cret" }))
        {
            Assert.Equal("OK", (await admin.ExecuteAsync(["ACL", "SETUSER", "gateway", "on", ">gw-pass", "~cache:*", "+@all"])).Text);
        }
        await using (var user = await RedisConnection.ConnectAsync(new RedisEndpoint("127.0.0.1", server.Port) { Username = "gateway", Password = "gw-pass" }))
        {
            Assert.Equal("OK", (await user.ExecuteAsync(["SET", "cache:x", "1"])).Text);
            var denied = await Assert.ThrowsAsync<RedisServerException>(() => user.ExecuteAsync(["SET", "other", "1"]));
            Assert.Equal("NOPERM", denied.Code);
        }
        var wrong = await Assert.ThrowsAsync<RedisServerException>(() => RedisConnection.ConnectAsync(new RedisEndpoint("127.0.0.1", server.Port) { Password = "nope" }));
        Assert.Equal("WRONGPASS", wrong.Code);
        await using var anonymous = await RedisConnection.ConnectAsync(new RedisEndpoint("127.0.0.1", server.Port));
        Assert.Equal("NOAUTH", (await Assert.ThrowsAsync<RedisServerException>(() => anonymous.ExecuteAsync(["GET", "cache:x"]))).Code);
    }

    [Fact]
    public async Task A_server_that_goes_away_fails_waiting_commands_promptly_and_breaks_the_connection()
    {
        var server = await RedisServer.StartAsync();
        var redis = await RedisConnection.ConnectAsync(new RedisEndpoint("127.0.0.1", server.Port) { Timeout = TimeSpan.FromSeconds(5) });
        await using (redis)
        {
            Assert.Equal("PONG", (await redis.ExecuteAsync(["PING"])).Text);
            var blocked = redis.ExecuteAsync(["BLPOP", "never", "0"]);
            await server.DisposeAsync();
            var failure = await Assert.ThrowsAsync<RedisConnectionException>(() => blocked);
            Assert.Contains("broke", failure.Message, StringComparison.Ordinal);
            Assert.True(redis.IsBroken);
            await Assert.ThrowsAsync<RedisConnectionException>(() => redis.ExecuteAsync(["PING"]));
        }
        await Assert.ThrowsAnyAsync<Exception>(() => RedisConnection.ConnectAsync(new RedisEndpoint("127.0.0.1", server.Port) { Timeout = TimeSpan.FromMilliseconds(500) }));
    }
}
