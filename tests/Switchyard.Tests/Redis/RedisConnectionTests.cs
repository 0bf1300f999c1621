using System.Globalization;
using StackExchange.Redis;
using Switchyard.Core.Redis;
using Xunit;

namespace Switchyard.Tests.Redis;

/// <summary>RedisConnection against a real standalone redis-server: commands, credentials, IAM-style rotation, scripts, timeouts, outage and recovery.</summary>
public sealed class RedisConnectionTests
{
    private static RedisOptions Options(RedisServer server) => new() { Endpoints = [("127.0.0.1", server.Port)] };

    /// <summary>Retries while the connection is still finding out that its old sockets are gone.</summary>
    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> action)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                return await action();
            }
            catch (RedisUnavailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    [Fact]
    public async Task Values_round_trip_with_expiry_and_server_errors_pass_through()
    {
        await using var server = await RedisServer.StartAsync();
        await using var redis = new RedisConnection(Options(server));
        var value = Enumerable.Range(0, 300_000).Select(i => (byte)(i % 256)).ToArray();
        await redis.RunAsync(db => db.StringSetAsync("cache:bin", value, TimeSpan.FromMinutes(5)), default);
        Assert.Equal(value, (byte[]?)await redis.RunAsync(db => db.StringGetAsync("cache:bin"), default));
        Assert.InRange(await new RedisCli(server.Port).IntegerAsync("PTTL", "cache:bin"), 1, 300_000);
        Assert.True((await redis.RunAsync(db => db.StringGetAsync("cache:missing"), default)).IsNull);
        await new RedisCli(server.Port).RunAsync("LPUSH", "list", "a");
        var wrong = await Assert.ThrowsAsync<RedisServerException>(() => redis.RunAsync(db => db.StringGetAsync("list"), default));
        Assert.StartsWith("WRONGTYPE", wrong.Message, StringComparison.Ordinal);
        await redis.PingAsync();
        Assert.True(redis.IsConnected);
        Assert.Null(redis.Problem);
    }

    [Fact]
    public async Task An_unreachable_server_never_throws_from_the_constructor_and_fails_fast_without_a_secret()
    {
        var port = RedisServer.FreePort();
        await using var redis = new RedisConnection(new RedisOptions
        {
            Endpoints = [("127.0.0.1", port)],
            Username = "gateway",
            Password = "hunter2-secret",
            CommandTimeout = TimeSpan.FromSeconds(20),
        });
        var failure = await Assert.ThrowsAsync<RedisUnavailableException>(() => redis.PingAsync());
        Assert.Contains("127.0.0.1:" + port, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", failure.Message, StringComparison.Ordinal);
        Assert.NotNull(redis.Problem);
        Assert.DoesNotContain("hunter2", redis.Problem, StringComparison.Ordinal);
        Assert.False(redis.IsConnected);

        // Once the first attempt is over, a caller is told at once instead of waiting out the 20 s command timeout.
        var started = DateTime.UtcNow;
        for (var i = 0; i < 50; i++)
        {
            await Assert.ThrowsAsync<RedisUnavailableException>(() => redis.DatabaseAsync());
        }
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Password_and_acl_user_authenticate_and_a_wrong_password_is_reported_without_the_password()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "s3cret");
        var admin = new RedisCli(server.Port) { Password = "s3cret" };
        await admin.RunAsync("ACL", "SETUSER", "gateway", "on", ">gw-pass", "~cache:*", "resetchannels", "+@all");
        await using (var byPassword = new RedisConnection(Options(server) with { Password = "s3cret" }))
        {
            Assert.True(await byPassword.RunAsync(db => db.StringSetAsync("anything", "1"), default));
        }
        await using (var user = new RedisConnection(Options(server) with { Username = "gateway", Password = "gw-pass" }))
        {
            Assert.True(await user.RunAsync(db => db.StringSetAsync("cache:x", "1"), default));
            var denied = await Assert.ThrowsAsync<RedisServerException>(() => user.RunAsync(db => db.StringSetAsync("other", "1"), default));
            Assert.StartsWith("NOPERM", denied.Message, StringComparison.Ordinal);
        }
        await using var wrong = new RedisConnection(Options(server) with { Username = "gateway", Password = "wrong-pass" });
        var refused = await Assert.ThrowsAsync<RedisUnavailableException>(() => EventuallyRefusedAsync(wrong));
        Assert.Contains("credentials", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pass", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pass", wrong.Problem, StringComparison.Ordinal);
        Assert.False(wrong.IsConnected);
    }

    // The reason is known once a handshake has been refused; until then the connection only knows it has none.
    private static async Task EventuallyRefusedAsync(RedisConnection redis)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                await redis.PingAsync();
                return;
            }
            catch (RedisUnavailableException ex) when (!ex.Message.Contains("credentials", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    [Fact]
    public async Task The_password_provider_is_asked_for_each_new_connection_so_a_rotated_password_is_picked_up()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "admin-pass");
        var admin = new RedisCli(server.Port) { Password = "admin-pass" };
        await admin.RunAsync("ACL", "SETUSER", "gateway", "on", ">token-1", "~*", "+@all");
        var token = "token-1";
        var calls = 0;
        await using var redis = new RedisConnection(Options(server) with
        {
            Username = "gateway",
            Password = "ignored-when-a-provider-is-set",
            PasswordProvider = _ =>
            {
                Interlocked.Increment(ref calls);
                return ValueTask.FromResult(token);
            },
        });
        await redis.RunAsync(db => db.StringSetAsync("k", "v1"), default);
        var before = calls;
        Assert.True(before >= 1);

        await admin.RunAsync("ACL", "SETUSER", "gateway", "resetpass", ">token-2");
        token = "token-2";
        await admin.RunAsync("CLIENT", "KILL", "USER", "gateway");

        Assert.Equal("v1", (string?)await EventuallyAsync(() => redis.RunAsync(db => db.StringGetAsync("k"), default)));
        Assert.True(calls > before);
        Assert.Equal("gateway", (string?)await redis.RunAsync(db => db.ExecuteAsync("ACL", "WHOAMI"), default));
    }

    [Fact]
    public async Task The_configured_database_is_used_and_a_cluster_with_a_database_number_is_refused()
    {
        await using var server = await RedisServer.StartAsync();
        await using (var redis = new RedisConnection(Options(server) with { Database = 3 }))
        {
            await redis.RunAsync(db => db.StringSetAsync("in-db-3", "yes"), default);
        }
        Assert.Equal("", await new RedisCli(server.Port).RunAsync("GET", "in-db-3"));
        Assert.Equal("yes", await new RedisCli(server.Port).RunAsync("-n", "3", "GET", "in-db-3"));
        Assert.Throws<ArgumentException>(() => new RedisConnection(Options(server) with { Database = 1, Cluster = true }));
    }

    [Fact]
    public async Task Scripts_run_by_sha_after_the_first_call_and_still_run_after_the_server_forgot_them()
    {
        await using var server = await RedisServer.StartAsync();
        await using var redis = new RedisConnection(Options(server));
        const string script = "return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}";
        var admin = new RedisCli(server.Port);
        await admin.RunAsync("CONFIG", "RESETSTAT");

        for (var i = 1; i <= 3; i++)
        {
            var reply = (RedisResult[])(await redis.EvaluateAsync(script, ["counter"], ["arg-" + i], default))!;
            Assert.Equal(["counter", "arg-" + i, i.ToString(CultureInfo.InvariantCulture)], reply.Select(r => (string?)r));
        }
        var stats = await admin.RunAsync("INFO", "commandstats");
        Assert.Contains("cmdstat_evalsha:", stats, StringComparison.Ordinal);

        // A restarted server or a promoted replica has an empty script cache: the call must still succeed.
        await admin.RunAsync("SCRIPT", "FLUSH");
        var again = (RedisResult[])(await redis.EvaluateAsync(script, ["counter"], ["after-flush"], default))!;
        Assert.Equal("4", (string?)again[2]);
        var error = await Assert.ThrowsAsync<RedisServerException>(() => redis.EvaluateAsync("return redis.call('NOPE')", [], [], default));
        Assert.Contains("Unknown Redis command", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_command_the_server_does_not_answer_in_time_fails_with_the_timeout_and_cancellation_ends_the_wait()
    {
        await using var server = await RedisServer.StartAsync();
        await using var redis = new RedisConnection(Options(server) with { CommandTimeout = TimeSpan.FromMilliseconds(300) });
        await redis.PingAsync();
        var admin = new RedisCli(server.Port);
        await admin.RunAsync("CLIENT", "PAUSE", "3000", "WRITE");

        var started = DateTime.UtcNow;
        var timedOut = await Assert.ThrowsAsync<RedisUnavailableException>(() => redis.RunAsync(db => db.StringSetAsync("k", "v"), default));
        Assert.Equal("redis did not answer within 300 ms", timedOut.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromMilliseconds(900), "the timeout is the command timeout, not the client's heartbeat");
        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => redis.RunAsync(db => db.StringSetAsync("k", "v2"), cts.Token));
        }

        await admin.RunAsync("CLIENT", "UNPAUSE");
        await EventuallyAsync(() => redis.RunAsync(db => db.StringSetAsync("k", "v3"), default));
        Assert.Equal("v3", (string?)await redis.RunAsync(db => db.StringGetAsync("k"), default));
        Assert.Null(redis.Problem);
    }

    [Fact]
    public async Task A_dead_server_fails_commands_fast_and_a_server_restarted_on_the_same_port_is_used_again()
    {
        await using var server = await RedisServer.StartAsync();
        await using var redis = new RedisConnection(Options(server) with
        {
            CommandTimeout = TimeSpan.FromSeconds(20),
            ReconnectMinDelay = TimeSpan.FromMilliseconds(100),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
        });
        await redis.RunAsync(db => db.StringSetAsync("k", "v"), default);

        await server.StopAsync();
        var notice = DateTime.UtcNow.AddSeconds(10);
        while (redis.IsConnected && DateTime.UtcNow < notice)
        {
            await Task.Delay(20);
        }
        Assert.False(redis.IsConnected);
        var started = DateTime.UtcNow;
        for (var i = 0; i < 100; i++)
        {
            await Assert.ThrowsAsync<RedisUnavailableException>(() => redis.RunAsync(db => db.StringGetAsync("k"), default));
        }
        // 100 failures without waiting out a 20 s command timeout each.
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
        // The reason arrives from SE.Redis's failure event or the background ping, possibly just after IsConnected turns false.
        var reason = DateTime.UtcNow.AddSeconds(10);
        while (redis.Problem?.Contains($"127.0.0.1:{server.Port}", StringComparison.Ordinal) != true && DateTime.UtcNow < reason)
        {
            await Task.Delay(20);
        }
        Assert.Contains($"127.0.0.1:{server.Port}", redis.Problem, StringComparison.Ordinal);

        await server.RestartAsync();
        await EventuallyAsync(() => redis.RunAsync(db => db.StringSetAsync("k", "back"), default));
        Assert.Equal("back", (string?)await redis.RunAsync(db => db.StringGetAsync("k"), default));
        Assert.True(redis.IsConnected);
        Assert.Null(redis.Problem);
    }

    [Fact]
    public async Task Disposing_closes_the_connections_on_the_server_and_refuses_further_use()
    {
        await using var server = await RedisServer.StartAsync();
        var admin = new RedisCli(server.Port);
        var redis = new RedisConnection(Options(server));
        await redis.PingAsync();
        Assert.Contains("name=switchyard", await admin.RunAsync("CLIENT", "LIST"), StringComparison.Ordinal);

        await redis.DisposeAsync();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while ((await admin.RunAsync("CLIENT", "LIST")).Contains("name=switchyard", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.DoesNotContain("name=switchyard", await admin.RunAsync("CLIENT", "LIST"), StringComparison.Ordinal);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => redis.DatabaseAsync());
        Assert.False(redis.IsConnected);
        Assert.NotNull(redis.Problem);
    }
}
