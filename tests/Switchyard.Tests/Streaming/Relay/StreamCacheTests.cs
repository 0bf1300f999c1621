using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Redis;
using Xunit;

namespace Switchyard.Tests.Streaming.Relay;

/// <summary>
/// The cache's write-through on streamed answers: a stream read to its end is stored and replayed as it was sent; a
/// stream the client abandoned is never stored, so the same request afterwards is a MISS that reaches the upstream again.
/// </summary>
public sealed class StreamCacheTests
{
    private const string Prompt = "one two three four five";

    public static TheoryData<string> AllPaths => new(RelayPath.Names.Where(n => !n.EndsWith("+cache", StringComparison.Ordinal)).Select(n => n + "+cache"));

    public static TheoryData<string, string> AbandonCases
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var path in (string[])["chat>openai+cache", "chat>anthropic+cache", "chat>google+cache", "messages>openai+cache", "responses>anthropic+cache"])
            {
                data.Add(path, "memory");
                data.Add(path, "redis");
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public async Task A_stream_read_to_its_end_is_stored_and_replayed_as_it_was_sent(string name)
    {
        await using var path = await RelayPath.StartAsync(name);

        var (miss, sent) = await path.AskAsync(Prompt);
        Assert.Equal(200, (int)miss.StatusCode);
        Assert.Equal("MISS", miss.Header("x-portkey-cache-status"));
        Assert.Equal("text/event-stream", miss.Content.Headers.ContentType?.MediaType);
        Assert.Single(path.ModelRequests);
        Assert.True(path.Gateway.Engine.Cache!.Writes == 1,
            $"{name}: a complete stream ({sent.Length} bytes, ending \"{Tail(sent)}\") was not stored");

        var (hit, replay) = await path.AskAsync(Prompt);
        Assert.Equal("HIT", hit.Header("x-portkey-cache-status"));
        Assert.Equal(sent, replay);
        Assert.Single(path.ModelRequests);
    }

    [Theory]
    [MemberData(nameof(AbandonCases))]
    public async Task A_stream_abandoned_by_its_client_leaves_no_cache_entry(string name, string store)
    {
        await using var redis = store == "redis" ? await RedisServer.StartAsync() : null;
        var cache = redis is null ? null : TestGateway.CacheFromEnvironment(n => n == "REDIS_URL" ? $"redis://127.0.0.1:{redis.Port}" : null);
        await using var path = await RelayPath.StartAsync(name, cache);
        Assert.Equal(store, path.Gateway.Engine.Cache!.Store.Kind);
        path.StepMode = true;

        var client = await path.OpenAsync(Prompt);
        await using (client)
        {
            Assert.Equal("MISS", client.Response.Header("x-portkey-cache-status"));
            await path.RelayEventByEventAsync(client, Prompt, stopAtWords: 2);
        }
        var abandoned = Assert.Single(path.ModelRequests);
        if (!await RelayPath.CompletesWithinAsync(abandoned.Completion, RelayPath.Bound))
        {
            // The gateway kept reading after the client left (the cancellation test names that bug). Let the upstream
            // finish, so a gateway that completes abandoned streams for the cache would store this one now.
            path.StepMode = false;
            Assert.True(await RelayPath.CompletesWithinAsync(abandoned.Completion, RelayPath.Bound), $"{name}: the upstream stream never ended");
        }
        path.StepMode = false;

        var (again, body) = await path.AskAsync(Prompt);
        Assert.Equal(200, (int)again.StatusCode);
        Assert.Equal("MISS", again.Header("x-portkey-cache-status"));
        Assert.Equal(2, path.ModelRequests.Count);
        Assert.False(path.ModelRequests[1].Aborted);

        // The control: on this path and store, the stream read to its end is stored (and only that one).
        Assert.True(path.Gateway.Engine.Cache.Writes == 1,
            $"{name}: {path.Gateway.Engine.Cache.Writes} cache writes after one abandoned and one complete stream (ending \"{Tail(body)}\"); expected exactly 1");
        var (third, replay) = await path.AskAsync(Prompt);
        Assert.Equal("HIT", third.Header("x-portkey-cache-status"));
        Assert.Equal(body, replay);
        Assert.Equal(2, path.ModelRequests.Count);
    }

    private static string Tail(string body) => body.Length <= 120 ? body : "…" + body[^120..];
}
