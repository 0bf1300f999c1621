using System.Diagnostics;
using System.Net;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Integration;

/// <summary>Retries per leaf (counts, status lists, cap, Retry-After, budget) and the per-attempt timeout.</summary>
public sealed class RetryAndTimeoutTests
{
    private static string Config(Uri upstream, string retry, string extra = "") =>
        $"{{\"retry\":{retry},{Requests.Target(upstream, extra: extra)[1..]}";

    [Fact]
    public async Task Retries_until_success_and_reports_the_count()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        sim.FailNext(2, 503);
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(Config(sim.BaseUrl, "{\"attempts\":3}"))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2", response.Header("x-portkey-retry-attempt-count"));
        Assert.Equal(3, sim.Requests.Count);
    }

    [Fact]
    public async Task Exhausted_retries_on_a_retriable_status_report_minus_one_and_return_the_last_upstream_answer()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        sim.FailNext(5, 429);
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(Config(sim.BaseUrl, "{\"attempts\":2}"))));
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        Assert.Equal("-1", response.Header("x-portkey-retry-attempt-count"));
        Assert.Equal(3, sim.Requests.Count);
        Assert.Equal("error", (await response.JsonAsync()).EnumerateObject().First().Name);
    }

    [Fact]
    public async Task Only_the_listed_statuses_are_retried()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        sim.FailNext(1, 500);
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(Config(sim.BaseUrl, "{\"attempts\":3,\"on_status_codes\":[429]}"))));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("0", response.Header("x-portkey-retry-attempt-count"));
        Assert.Single(sim.Requests);

        // The default list covers 429/500/502/503/504 but not 400.
        sim.ClearRequests();
        sim.FailNext(1, 400);
        var bad = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(Config(sim.BaseUrl, "{\"attempts\":3}"))));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Single(sim.Requests);
    }

    [Fact]
    public async Task Attempts_are_capped_by_RETRY_MAX_ATTEMPTS()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Retry = s.Retry with { MaxAttempts = 2 } });
        sim.FailNext(10, 503);
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(Config(sim.BaseUrl, "{\"attempts\":9}"))));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(3, sim.Requests.Count);
    }

    [Fact]
    public async Task Retry_after_headers_set_the_wait()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        // Backoff alone would wait at most 20 ms; the upstream asks for 400 ms.
        await using var gw = await TestGateway.StartAsync();
        sim.FailNext(1, 429, retryAfterMs: "400");
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(Config(sim.BaseUrl, "{\"attempts\":1}"))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var gap = sim.Requests[1].ReceivedAt - sim.Requests[0].ReceivedAt;
        Assert.True(gap >= TimeSpan.FromMilliseconds(390), $"waited only {gap.TotalMilliseconds} ms");

        sim.ClearRequests();
        sim.FailNext(1, 503, retryAfterSeconds: "1");
        var seconds = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(Config(sim.BaseUrl, "{\"attempts\":1}"))));
        Assert.Equal(HttpStatusCode.OK, seconds.StatusCode);
        Assert.True(sim.Requests[1].ReceivedAt - sim.Requests[0].ReceivedAt >= TimeSpan.FromMilliseconds(990));
    }

    [Fact]
    public async Task Retry_after_is_ignored_when_the_config_says_so_and_a_wait_beyond_the_budget_stops_retrying()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Retry = s.Retry with { Budget = TimeSpan.FromSeconds(2) } });
        sim.FailNext(1, 429, retryAfterSeconds: "30");
        var stopwatch = Stopwatch.StartNew();
        var ignored = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(),
            Requests.Config(Config(sim.BaseUrl, "{\"attempts\":1,\"use_retry_after_header\":false}"))));
        Assert.Equal(HttpStatusCode.OK, ignored.StatusCode);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10));

        sim.ClearRequests();
        sim.FailNext(1, 429, retryAfterSeconds: "30");
        var overBudget = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(Config(sim.BaseUrl, "{\"attempts\":3}"))));
        Assert.Equal((HttpStatusCode)429, overBudget.StatusCode);
        Assert.Equal("-1", overBudget.Header("x-portkey-retry-attempt-count"));
        Assert.Single(sim.Requests);
    }

    [Fact]
    public async Task Backoff_waits_grow_but_never_exceed_the_ceiling()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with
        {
            Retry = s.Retry with { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(150) },
        });
        sim.FailNext(4, 502);
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(Config(sim.BaseUrl, "{\"attempts\":4}"))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var times = sim.Requests.Select(r => r.ReceivedAt).ToList();
        Assert.Equal(5, times.Count);
        for (var i = 1; i < times.Count; i++)
        {
            var gap = (times[i] - times[i - 1]).TotalMilliseconds;
            var expected = Math.Min(100 * Math.Pow(2, i - 1), 150);
            // Jitter keeps each wait within 50–100 % of the capped exponential value.
            Assert.True(gap >= expected * 0.5 - 2, $"gap {i} was {gap} ms, expected at least {expected * 0.5}");
        }
        // Uncapped, the last wait would be 400–800 ms; the ceiling holds it to 75–150 ms. The bound leaves room for a
        // loaded machine's scheduling delays (a 250 ms bound over an 80 ms ceiling flaked under the full suite).
        var last = (times[4] - times[3]).TotalMilliseconds;
        Assert.True(last < 390, $"the last wait was {last} ms");
    }

    [Fact]
    public async Task Unreachable_upstream_is_retried_then_answered_with_502()
    {
        await using var gw = await TestGateway.StartAsync();
        var config = "{\"retry\":{\"attempts\":2},\"provider\":\"openai\",\"api_key\":\"k\",\"custom_host\":\"http://127.0.0.1:1/v1\"}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(config)));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("-1", response.Header("x-portkey-retry-attempt-count"));
        var error = (await response.JsonAsync()).GetProperty("error");
        Assert.Equal("upstream_connection_error", error.GetProperty("type").GetString());
        Assert.Contains("connection refused", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Per_attempt_timeout_answers_408_in_portkey_shape()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        sim.Enqueue(SimulatedFault.Delayed(TimeSpan.FromSeconds(3)));
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(Config(sim.BaseUrl, "{\"attempts\":0}", "\"request_timeout\":250"))));
        Assert.Equal(HttpStatusCode.RequestTimeout, response.StatusCode);
        var error = (await response.JsonAsync()).GetProperty("error");
        Assert.Equal("Request exceeded the timeout sent in the request: 250ms", error.GetProperty("message").GetString());
        Assert.Equal("timeout_error", error.GetProperty("type").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, error.GetProperty("code").ValueKind);
        // The abandoned attempt is cancelled upstream.
        var seen = await sim.WaitForRequestCompletionAsync(0, TimeSpan.FromSeconds(5));
        Assert.True(seen.Aborted);
    }

    [Fact]
    public async Task Timeout_applies_per_attempt_and_the_header_overrides_the_config()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        sim.Enqueue(SimulatedFault.Delayed(TimeSpan.FromSeconds(3)));
        // First attempt times out (408 is in the list), the retry answers at once.
        var config = Config(sim.BaseUrl, "{\"attempts\":1,\"on_status_codes\":[408]}", "\"request_timeout\":60000");
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(),
            [.. Requests.Config(config), ("x-portkey-request-timeout", "200")]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("1", response.Header("x-portkey-retry-attempt-count"));
    }

    [Fact]
    public async Task A_slow_body_after_prompt_headers_is_not_cut_by_the_timeout()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        sim.Enqueue(SimulatedFault.SlowFirstByte(TimeSpan.FromMilliseconds(600)));
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(Config(sim.BaseUrl, "{\"attempts\":0}", "\"request_timeout\":300"))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("echo: hello there", (await response.JsonAsync()).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }
}
