using System.Text;
using Switchyard.Redis;
using Xunit;

namespace Switchyard.Tests.Redis;

/// <summary>RedisClient against a real standalone redis-server: commands, pool, AUTH, password provider, scripts, timeouts, reconnect.</summary>
public sealed class RedisClientTests
{
    private static RedisClientOptions Options(RedisServer server) => new() { Endpoints = [("127.0.0.1", server.Port)] };

    private static async Task<RedisConnection> AdminAsync(RedisServer server, string? password = null) =>
        await RedisConnection.ConnectAsync(new RedisEndpoint("127.0.0.1", server.Port) { Password = password });

    /// <summary>Retries while the client is still finding out that its old connections are gone.</summary>
    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> action)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                return await action();
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(25);
            }
        }
    }

    [Fact]
    public async Task Get_set_with_expiry_delete_and_execute_round_trip_binary_values()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = new RedisClient(Options(server));
        var value = Enumerable.Range(0, 300_000).Select(i => (byte)(i % 256)).ToArray();
        await client.SetAsync("cache:bin", value, TimeSpan.FromMinutes(5));
        Assert.Equal(value, await client.GetAsync("cache:bin"));
        var ttl = (await client.ExecuteAsync("cache:bin", "PTTL", "cache:bin")).Integer;
        Assert.InRange(ttl, 1, 300_000);
        await client.SetAsync("cache:forever", "x"u8.ToArray(), null);
        Assert.Equal(-1, (await client.ExecuteAsync("cache:forever", "PTTL", "cache:forever")).Integer);
        Assert.Null(await client.GetAsync("cache:missing"));
        Assert.Equal(1, await client.DeleteAsync("cache:bin"));
        Assert.Equal(0, await client.DeleteAsync("cache:bin"));
        Assert.Null(await client.GetAsync("cache:bin"));
        var echoed = await client.ExecuteAsync(null, [Encoding.ASCII.GetBytes("ECHO"), new byte[] { 0, 13, 10, 255 }]);
        Assert.Equal(new byte[] { 0, 13, 10, 255 }, echoed.Bytes);
        await client.ExecuteAsync("list", "LPUSH", "list", "a");
        var wrong = await Assert.ThrowsAsync<RedisServerException>(() => client.GetAsync("list"));
        Assert.Equal("WRONGTYPE", wrong.Code);
        await client.PingAsync();
        Assert.True(client.IsConnected);
        Assert.Null(client.LastError);
    }

    [Fact]
    public async Task Concurrent_commands_are_pipelined_over_the_configured_number_of_connections_round_robin()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = new RedisClient(Options(server) with { ConnectionsPerNode = 3 });
        var replies = await Task.WhenAll(Enumerable.Range(0, 3000).Select(_ => Task.Run(() => client.ExecuteAsync("n", "INCR", "n"))));
        Assert.Equal(Enumerable.Range(1, 3000).Select(i => (long)i), replies.Select(r => r.Integer).Order());
        var ids = new HashSet<long>();
        for (var i = 0; i < 12; i++)
        {
            ids.Add((await client.ExecuteAsync(null, "CLIENT", "ID")).Integer);
        }
        Assert.Equal(3, ids.Count);
        var list = (await client.ExecuteAsync(null, "CLIENT", "LIST")).Text!;
        Assert.Equal(3, list.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task A_killed_connection_is_replaced_and_the_pool_keeps_its_size()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = new RedisClient(Options(server));
        var before = new HashSet<long>();
        // The second connection opens in the background while the first serves (callers do not wait for it).
        for (var i = 0; i < 200 && before.Count < 2; i++)
        {
            before.Add((await client.ExecuteAsync(null, "CLIENT", "ID")).Integer);
            if (before.Count < 2)
            {
                await Task.Delay(5);
            }
        }
        Assert.Equal(2, before.Count);
        await using (var admin = await AdminAsync(server))
        {
            Assert.Equal(1, (await admin.ExecuteAsync(["CLIENT", "KILL", "ID", before.First().ToString(System.Globalization.CultureInfo.InvariantCulture)])).Integer);
        }
        var after = new HashSet<long>();
        for (var i = 0; i < 200 && (i < 8 || after.Count < 2); i++)
        {
            after.Add(await EventuallyAsync(async () => (await client.ExecuteAsync(null, "CLIENT", "ID")).Integer));
            if (after.Count < 2)
            {
                await Task.Delay(5);
            }
        }
        Assert.DoesNotContain(before.First(), after);
        Assert.Contains(before.Last(), after);
        Assert.Equal(2, after.Count);
        Assert.Null(client.LastError);
    }

    [Fact]
    public async Task An_unreachable_server_fails_commands_with_a_connection_error_that_holds_no_secret()
    {
        var port = RedisServer.FreePort();
        await using var client = new RedisClient(new RedisClientOptions
        {
            Endpoints = [("127.0.0.1", port)],
            Username = "gateway",
            Password = "hunter2-secret",
        });
        Assert.False(client.IsConnected);
        Assert.Null(client.LastError);
        var failure = await Assert.ThrowsAsync<RedisConnectionException>(() => client.PingAsync());
        Assert.Contains("127.0.0.1:" + port, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", failure.Message, StringComparison.Ordinal);
        Assert.NotNull(client.LastError);
        Assert.DoesNotContain("hunter2", client.LastError, StringComparison.Ordinal);
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task Password_and_acl_user_authenticate_and_a_wrong_password_is_a_connection_error_without_the_password()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "s3cret");
        await using (var admin = await AdminAsync(server, "s3cret"))
        {
            await admin.ExecuteAsync(["ACL", "SETUSER", "gateway", "on", ">gw-pass", "~cache:*", "+@all"]);
        }
        await using (var byPassword = new RedisClient(Options(server) with { Password = "s3cret" }))
        {
            await byPassword.SetAsync("anything", "1"u8.ToArray(), null);
        }
        await using (var user = new RedisClient(Options(server) with { Username = "gateway", Password = "gw-pass" }))
        {
            await user.SetAsync("cache:x", "1"u8.ToArray(), null);
            Assert.Equal("NOPERM", (await Assert.ThrowsAsync<RedisServerException>(() => user.SetAsync("other", "1"u8.ToArray(), null))).Code);
        }
        await using var wrong = new RedisClient(Options(server) with { Username = "gateway", Password = "wrong-pass" });
        var refused = await Assert.ThrowsAsync<RedisConnectionException>(() => wrong.GetAsync("cache:x"));
        Assert.Contains("WRONGPASS", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pass", refused.Message, StringComparison.Ordinal);
        Assert.Contains("WRONGPASS", wrong.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_password_provider_is_asked_for_each_new_connection_so_a_rotated_password_is_picked_up()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "admin-pass");
        await using var admin = await AdminAsync(server, "admin-pass");
        await admin.ExecuteAsync(["ACL", "SETUSER", "gateway", "on", ">token-1", "~*", "+@all"]);
        var token = "token-1";
        var calls = 0;
        await using var client = new RedisClient(Options(server) with
        {
            Username = "gateway",
            Password = "ignored-when-a-provider-is-set",
            ConnectionsPerNode = 1,
            PasswordProvider = _ =>
            {
                Interlocked.Increment(ref calls);
                return ValueTask.FromResult(token);
            },
        });
        await client.SetAsync("k", "v1"u8.ToArray(), null);
        Assert.Equal(1, calls);

        await admin.ExecuteAsync(["ACL", "SETUSER", "gateway", "resetpass", ">token-2"]);
        token = "token-2";
        await admin.ExecuteAsync(["CLIENT", "KILL", "USER", "gateway"]);

        Assert.Equal("v1"u8.ToArray(), await EventuallyAsync(() => client.GetAsync("k")));
        Assert.Equal(2, calls);
        var whoami = await client.ExecuteAsync(null, "ACL", "WHOAMI");
        Assert.Equal("gateway", whoami.Text);
    }

    [Fact]
    public async Task Database_is_selected_on_every_connection()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = new RedisClient(Options(server) with { Database = 3 });
        await client.SetAsync("in-db-3", "yes"u8.ToArray(), null);
        await using var admin = await AdminAsync(server);
        Assert.True((await admin.ExecuteAsync(["GET", "in-db-3"])).IsNull);
        await admin.ExecuteAsync(["SELECT", "3"]);
        Assert.Equal("yes", (await admin.ExecuteAsync(["GET", "in-db-3"])).Text);
        Assert.Throws<ArgumentException>(() => new RedisClient(Options(server) with { Database = 1, Cluster = true }));
    }

    [Fact]
    public async Task Scripts_run_by_evalsha_and_fall_back_to_eval_after_a_script_flush()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = new RedisClient(Options(server));
        var script = new RedisScript("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}");
        Assert.Equal(40, script.Sha1.Length);
        Assert.Equal(script.Sha1, (await client.ExecuteAsync(null, "SCRIPT", "LOAD", script.Source)).Text); // the server agrees on the SHA-1
        await client.ExecuteAsync(null, "SCRIPT", "FLUSH");
        await client.ExecuteAsync(null, "CONFIG", "RESETSTAT");

        for (var i = 1; i <= 3; i++)
        {
            var reply = await client.EvalAsync(script, ["counter"], [Encoding.UTF8.GetBytes("arg-" + i)]);
            Assert.Equal(["counter", "arg-" + i, i.ToString(System.Globalization.CultureInfo.InvariantCulture)], reply.Items!.Select(v => v.ToString()));
        }
        var stats = (await client.ExecuteAsync(null, "INFO", "commandstats")).Text!;
        Assert.Contains("cmdstat_eval:calls=1,", stats, StringComparison.Ordinal);        // loaded once, after the first NOSCRIPT
        Assert.Contains("cmdstat_evalsha:calls=3,", stats, StringComparison.Ordinal);
        Assert.Contains("failed_calls=1", stats.Split('\n').Single(l => l.StartsWith("cmdstat_evalsha", StringComparison.Ordinal)), StringComparison.Ordinal);

        await client.ExecuteAsync(null, "SCRIPT", "FLUSH");
        var again = await client.EvalAsync(script, ["counter"], [Encoding.UTF8.GetBytes("after-flush")]);
        Assert.Equal("4", again.Items![2].ToString());
        var error = await Assert.ThrowsAsync<RedisServerException>(() => client.EvalAsync(new RedisScript("return redis.call('NOPE')"), [], []));
        Assert.Contains("Unknown Redis command", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_command_the_server_does_not_answer_in_time_fails_with_a_connection_error_and_the_connection_is_replaced()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = new RedisClient(Options(server) with { ConnectionsPerNode = 1, CommandTimeout = TimeSpan.FromMilliseconds(300) });
        var firstId = (await client.ExecuteAsync(null, "CLIENT", "ID")).Integer;
        await using var admin = await AdminAsync(server);
        await admin.ExecuteAsync(["CLIENT", "PAUSE", "20000", "WRITE"]);

        var timedOut = await Assert.ThrowsAsync<RedisConnectionException>(() => client.SetAsync("k", "v"u8.ToArray(), null));
        Assert.Contains("did not answer within 300 ms", timedOut.Message, StringComparison.Ordinal);
        Assert.NotNull(client.LastError);

        await admin.ExecuteAsync(["CLIENT", "UNPAUSE"]);
        await client.SetAsync("k", "v2"u8.ToArray(), null);
        Assert.Equal("v2"u8.ToArray(), await client.GetAsync("k"));
        Assert.NotEqual(firstId, (await client.ExecuteAsync(null, "CLIENT", "ID")).Integer);
        Assert.Null(client.LastError);
    }

    [Fact]
    public async Task Cancelling_the_token_ends_the_wait_with_operation_canceled_and_leaves_the_connection_usable()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = new RedisClient(Options(server) with { ConnectionsPerNode = 1, CommandTimeout = TimeSpan.FromSeconds(30) });
        var id = (await client.ExecuteAsync(null, "CLIENT", "ID")).Integer;
        await using var admin = await AdminAsync(server);
        await admin.ExecuteAsync(["CLIENT", "PAUSE", "20000", "WRITE"]);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SetAsync("k", "v"u8.ToArray(), null, cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("k", cts.Token));
        await admin.ExecuteAsync(["CLIENT", "UNPAUSE"]);
        Assert.Equal("v"u8.ToArray(), await client.GetAsync("k")); // the cancelled SET still reached the server in order
        Assert.Equal(id, (await client.ExecuteAsync(null, "CLIENT", "ID")).Integer);
    }

    [Fact]
    public async Task A_dead_server_fails_commands_fast_with_backoff_and_a_server_restarted_on_the_same_port_is_used_again()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = new RedisClient(Options(server) with
        {
            CommandTimeout = TimeSpan.FromSeconds(20),
            ConnectTimeout = TimeSpan.FromSeconds(20),
            ReconnectMinDelay = TimeSpan.FromMilliseconds(300),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(600),
        });
        await client.SetAsync("k", "v"u8.ToArray(), null);
        await client.PingAsync();
        var attemptsBefore = client.ConnectAttempts;

        await server.StopAsync();
        var started = DateTime.UtcNow;
        for (var i = 0; i < 100; i++)
        {
            await Assert.ThrowsAsync<RedisConnectionException>(() => client.GetAsync("k"));
        }
        // 100 failures without waiting out a 20 s timeout each, and without a connect attempt each.
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
        Assert.InRange(client.ConnectAttempts - attemptsBefore, 1, 3);
        Assert.False(client.IsConnected);
        Assert.Equal($"Could not connect to Redis at 127.0.0.1:{server.Port}: ConnectionRefused", client.LastError);
        var failFast = await Assert.ThrowsAsync<RedisConnectionException>(() => client.PingAsync());
        Assert.Contains("next connect attempt", failFast.Message, StringComparison.Ordinal);

        await server.RestartAsync();
        await EventuallyAsync(async () =>
        {
            await client.SetAsync("k", "back"u8.ToArray(), null);
            return true;
        });
        Assert.Equal("back"u8.ToArray(), await client.GetAsync("k"));
        Assert.True(client.IsConnected);
        Assert.Null(client.LastError);
    }
}
