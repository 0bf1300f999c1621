using System.Net;
using System.Text;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Caching;

/// <summary>The simple response cache through the real gateway with the embedded memory store.</summary>
public sealed class ResponseCacheTests
{
    private static string CachedTarget(Uri upstream, string key = Requests.Key, string cache = "{\"mode\":\"simple\"}") =>
        $"{{\"cache\":{cache},\"provider\":\"openai\",\"api_key\":\"{key}\",\"custom_host\":\"{upstream}\"}}";

    private static async Task<(HttpResponseMessage Response, byte[] Body)> SendAsync(TestGateway gw, string config, string body, params (string, string)[] extra)
    {
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", body, [.. Requests.Config(config), .. extra]));
        return (response, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_repeated_request_is_a_hit_with_one_upstream_call_and_the_same_body()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = CachedTarget(sim.BaseUrl);

        var (first, firstBody) = await SendAsync(gw, config, Requests.Chat("what is the capital of France?"));
        var (second, secondBody) = await SendAsync(gw, config, Requests.Chat("what is the capital of France?"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("MISS", first.Header("x-portkey-cache-status"));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("HIT", second.Header("x-portkey-cache-status"));
        Assert.Single(sim.Requests);
        Assert.Equal(firstBody, secondBody);
        Assert.Equal("application/json", second.Content.Headers.ContentType?.MediaType);
        Assert.Equal("openai", second.Header("x-portkey-provider"));
    }

    [Fact]
    public async Task Equal_requests_written_differently_share_an_entry_and_other_parameters_do_not()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = CachedTarget(sim.BaseUrl);

        await SendAsync(gw, config, """{"model":"gpt-4o-mini","temperature":0.2,"messages":[{"role":"user","content":"hi"}]}""");
        var (reordered, _) = await SendAsync(gw, config, """{ "messages": [ {"content":"hi", "role":"user"} ], "temperature":0.2, "model":"gpt-4o-mini" }""");
        var (otherTemperature, _) = await SendAsync(gw, config, """{"model":"gpt-4o-mini","temperature":0.3,"messages":[{"role":"user","content":"hi"}]}""");
        var (otherModel, _) = await SendAsync(gw, config, """{"model":"gpt-4o","temperature":0.2,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal("HIT", reordered.Header("x-portkey-cache-status"));
        Assert.Equal("MISS", otherTemperature.Header("x-portkey-cache-status"));
        Assert.Equal("MISS", otherModel.Header("x-portkey-cache-status"));
        Assert.Equal(3, sim.Requests.Count);
    }

    [Fact]
    public async Task A_streaming_hit_replays_the_same_server_sent_events_byte_for_byte()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = CachedTarget(sim.BaseUrl);
        var body = Requests.Chat("tell me a short story about a lighthouse", stream: true);

        var (first, firstBody) = await SendAsync(gw, config, body);
        var (second, secondBody) = await SendAsync(gw, config, body);

        Assert.Equal("MISS", first.Header("x-portkey-cache-status"));
        Assert.Equal("HIT", second.Header("x-portkey-cache-status"));
        Assert.Equal("text/event-stream", second.Content.Headers.ContentType?.MediaType);
        Assert.Single(sim.Requests);
        Assert.Equal(Encoding.UTF8.GetString(firstBody), Encoding.UTF8.GetString(secondBody));
        // A proper stream: data events of chunks ending in [DONE]; the usage the gateway asked for stays hidden on replay too.
        var events = Encoding.UTF8.GetString(secondBody).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.True(events.Length > 2);
        Assert.Equal("data: [DONE]", events[^1].Trim());
        foreach (var e in events[..^1])
        {
            using var chunk = JsonDocument.Parse(e["data: ".Length..]);
            Assert.Equal("chat.completion.chunk", chunk.RootElement.GetProperty("object").GetString());
        }
        Assert.DoesNotContain("\"usage\"", Encoding.UTF8.GetString(secondBody), StringComparison.Ordinal);

        // A streaming request and a JSON one are different requests: the JSON one is not served the stream.
        var (json, _) = await SendAsync(gw, config, Requests.Chat("tell me a short story about a lighthouse"));
        Assert.Equal("MISS", json.Header("x-portkey-cache-status"));
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_stream_that_breaks_off_is_not_stored()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = CachedTarget(sim.BaseUrl);
        var body = Requests.Chat("one two three four five", stream: true);
        sim.Enqueue(new SimulatedFault { Kind = FaultKind.CutStream, EventsBeforeCut = 2 });

        var broken = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", body, Requests.Config(config)), HttpCompletionOption.ResponseHeadersRead);
        await Assert.ThrowsAnyAsync<Exception>(async () => await broken.Content.ReadAsByteArrayAsync());
        var (next, nextBody) = await SendAsync(gw, config, body);

        Assert.Equal("MISS", next.Header("x-portkey-cache-status"));
        Assert.EndsWith("data: [DONE]\n\n", Encoding.UTF8.GetString(nextBody), StringComparison.Ordinal);
        Assert.Equal(2, sim.Requests.Count);
    }

    [Fact]
    public async Task Two_tenants_with_the_same_request_do_not_share_an_answer()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var body = Requests.Chat("summarise our Q3 numbers");

        var (a1, _) = await SendAsync(gw, CachedTarget(sim.BaseUrl, key: "sk-tenant-a"), body);
        var (b1, _) = await SendAsync(gw, CachedTarget(sim.BaseUrl, key: "sk-tenant-b"), body);
        var (a2, _) = await SendAsync(gw, CachedTarget(sim.BaseUrl, key: "sk-tenant-a"), body);
        // Header mode: the tenant is the client's own bearer key.
        var headerCache = new (string, string)[] { ("x-portkey-config", "{\"cache\":{\"mode\":\"simple\"}}"), ("x-portkey-provider", "openai"), ("x-portkey-custom-host", sim.BaseUrl.ToString()) };
        var c1 = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", body, [.. headerCache, ("Authorization", "Bearer sk-tenant-c")]));
        var d1 = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", body, [.. headerCache, ("Authorization", "Bearer sk-tenant-d")]));
        var c2 = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", body, [.. headerCache, ("Authorization", "Bearer sk-tenant-c")]));

        Assert.Equal("MISS", a1.Header("x-portkey-cache-status"));
        Assert.Equal("MISS", b1.Header("x-portkey-cache-status"));
        Assert.Equal("HIT", a2.Header("x-portkey-cache-status"));
        Assert.Equal("MISS", c1.Header("x-portkey-cache-status"));
        Assert.Equal("MISS", d1.Header("x-portkey-cache-status"));
        Assert.Equal("HIT", c2.Header("x-portkey-cache-status"));
        Assert.Equal(4, sim.Requests.Count);
        Assert.Equal(["Bearer sk-tenant-a", "Bearer sk-tenant-b", "Bearer sk-tenant-c", "Bearer sk-tenant-d"], sim.Requests.Select(r => r.Headers["authorization"]));
    }

    [Fact]
    public async Task Force_refresh_calls_the_provider_and_replaces_the_entry()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = CachedTarget(sim.BaseUrl);
        var body = Requests.Chat("refresh me");

        var (_, original) = await SendAsync(gw, config, body);
        var (refresh, refreshed) = await SendAsync(gw, config, body, ("x-portkey-cache-force-refresh", "true"));
        var (hit, hitBody) = await SendAsync(gw, config, body);

        Assert.Equal("REFRESH", refresh.Header("x-portkey-cache-status"));
        Assert.Equal(2, sim.Requests.Count);
        Assert.NotEqual(original, refreshed); // A new completion id.
        Assert.Equal("HIT", hit.Header("x-portkey-cache-status"));
        Assert.Equal(refreshed, hitBody);
    }

    [Fact]
    public async Task Entries_expire_after_max_age_on_the_gateway_clock()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var clock = new ManualClock();
        await using var gw = await TestGateway.StartAsync(time: clock);
        var config = CachedTarget(sim.BaseUrl, cache: "{\"mode\":\"simple\",\"max_age\":120}");
        var body = Requests.Chat("how long do you keep this?");

        await SendAsync(gw, config, body);
        clock.Advance(TimeSpan.FromSeconds(119));
        var (stillFresh, _) = await SendAsync(gw, config, body);
        clock.Advance(TimeSpan.FromSeconds(2));
        var (expired, _) = await SendAsync(gw, config, body);

        Assert.Equal("HIT", stillFresh.Header("x-portkey-cache-status"));
        Assert.Equal("MISS", expired.Header("x-portkey-cache-status"));
        Assert.Equal(2, sim.Requests.Count);
    }

    [Fact]
    public async Task Errors_are_not_cached_and_requests_without_a_cache_block_say_disabled()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = CachedTarget(sim.BaseUrl);
        var body = Requests.Chat("flaky");
        sim.FailNext(1, 500);

        var (failed, _) = await SendAsync(gw, config, body);
        var (retried, _) = await SendAsync(gw, config, body);
        var (hit, _) = await SendAsync(gw, config, body);
        var uncached = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", body, Requests.HeaderMode(sim.BaseUrl)));

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal("MISS", failed.Header("x-portkey-cache-status"));
        Assert.Equal("MISS", retried.Header("x-portkey-cache-status"));
        Assert.Equal("HIT", hit.Header("x-portkey-cache-status"));
        Assert.Equal("DISABLED", uncached.Header("x-portkey-cache-status"));
        Assert.Equal(3, sim.Requests.Count);
    }

    [Fact]
    public async Task A_hit_is_logged_with_its_cache_status()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = CachedTarget(sim.BaseUrl);
        await SendAsync(gw, config, Requests.Chat("log me"));
        await SendAsync(gw, config, Requests.Chat("log me"));
        var lines = await Logs.RequestLogTests.RecordsAsync(gw, 2);
        Assert.Equal(["MISS", "HIT"], lines.Select(l => l.GetProperty("cache_status").GetString()));
        // The hit's usage is the stored answer's, so cost reports can tell saved tokens from billed ones.
        Assert.True(lines[1].GetProperty("usage").GetProperty("total_tokens").GetInt64() > 0);
    }

    [Fact]
    public async Task Cache_control_max_age_applies_without_max_age_short_ones_are_raised_to_a_minute_and_namespaces_partition()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var clock = new ManualClock();
        await using var gw = await TestGateway.StartAsync(time: clock);
        var config = CachedTarget(sim.BaseUrl);
        var tenSeconds = CachedTarget(sim.BaseUrl, cache: "{\"mode\":\"simple\",\"max_age\":10}");

        await SendAsync(gw, config, Requests.Chat("header ttl"), ("Cache-Control", "max-age=90"));
        await SendAsync(gw, tenSeconds, Requests.Chat("short ttl"));
        clock.Advance(TimeSpan.FromSeconds(59));
        var (shortStillFresh, _) = await SendAsync(gw, tenSeconds, Requests.Chat("short ttl"));
        clock.Advance(TimeSpan.FromSeconds(30));
        var (headerStillFresh, _) = await SendAsync(gw, config, Requests.Chat("header ttl"));
        clock.Advance(TimeSpan.FromSeconds(2));
        var (headerExpired, _) = await SendAsync(gw, config, Requests.Chat("header ttl"));

        Assert.Equal("HIT", shortStillFresh.Header("x-portkey-cache-status"));
        Assert.Equal("HIT", headerStillFresh.Header("x-portkey-cache-status"));
        Assert.Equal("MISS", headerExpired.Header("x-portkey-cache-status"));

        await SendAsync(gw, config, Requests.Chat("namespaced"), ("x-portkey-cache-namespace", "user-1"));
        var (sameNamespace, _) = await SendAsync(gw, config, Requests.Chat("namespaced"), ("x-portkey-cache-namespace", "user-1"));
        var (otherNamespace, _) = await SendAsync(gw, config, Requests.Chat("namespaced"), ("x-portkey-cache-namespace", "user-2"));
        var (noNamespace, _) = await SendAsync(gw, config, Requests.Chat("namespaced"));
        Assert.Equal(("HIT", "MISS", "MISS"), (sameNamespace.Header("x-portkey-cache-status"), otherNamespace.Header("x-portkey-cache-status"), noNamespace.Header("x-portkey-cache-status")));
    }

    [Fact]
    public async Task With_the_cache_store_off_cache_blocks_say_disabled_and_every_request_reaches_the_provider()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Cache = s.Cache with { Store = "none" } });
        var config = CachedTarget(sim.BaseUrl);
        var (first, _) = await SendAsync(gw, config, Requests.Chat("no store"));
        var (second, _) = await SendAsync(gw, config, Requests.Chat("no store"));
        Assert.Equal(("DISABLED", "DISABLED"), (first.Header("x-portkey-cache-status"), second.Header("x-portkey-cache-status")));
        Assert.Equal(2, sim.Requests.Count);
    }
}
