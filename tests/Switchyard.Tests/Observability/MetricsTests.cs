using System.Net;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Observability;

/// <summary>
/// <c>/metrics</c> after known traffic through the real gateway: every series docs/metrics.md lists is there, read by a
/// Prometheus text-format parser, with counts equal to the requests sent and token sums equal to what the simulator reported.
/// </summary>
public sealed class MetricsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static string Config(string json) => json;

    private static async Task<(HttpResponseMessage Response, string Body)> ChatAsync(TestGateway gw, string config, string text, string model,
        bool stream = false, params (string, string)[] extra)
    {
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(text, model, stream, includeUsage: stream),
            [("x-portkey-config", config), .. extra]));
        return (response, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The usage the simulator reported: the body's, or a stream's last usage chunk.</summary>
    private static (long Input, long Output) Usage(string body)
    {
        JsonElement usage = default;
        if (body.StartsWith("data:", StringComparison.Ordinal))
        {
            foreach (var line in body.Split('\n'))
            {
                if (line.StartsWith("data: {", StringComparison.Ordinal)
                    && JsonDocument.Parse(line[6..]).RootElement.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object)
                {
                    usage = u.Clone();
                }
            }
        }
        else
        {
            usage = JsonDocument.Parse(body).RootElement.GetProperty("usage");
        }
        return (usage.GetProperty("prompt_tokens").GetInt64(), usage.GetProperty("completion_tokens").GetInt64());
    }

    [Fact]
    public async Task Known_traffic_shows_in_every_documented_series_with_the_right_counts_labels_and_token_sums()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var backup = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        long input = 0, output_ = 0;
        void Count(string body)
        {
            var (i, o) = Usage(body);
            input += i;
            output_ += o;
        }

        // Three plain successes.
        var plain = Requests.Target(sim.BaseUrl);
        for (var i = 0; i < 3; i++)
        {
            var (r, body) = await ChatAsync(gw, plain, $"plain request {i}", "m-plain");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Count(body);
        }

        // An upstream 500, retried once, then a success.
        sim.FailNext(1, 500);
        var (retried, retriedBody) = await ChatAsync(gw, Requests.Target(sim.BaseUrl, extra: "\"retry\":{\"attempts\":2,\"on_status_codes\":[500]}"),
            "retry me", "m-retry");
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal("1", retried.Header("x-portkey-retry-attempt-count"));
        Count(retriedBody);

        // A 503 from the first target, answered by the second.
        sim.FailNext(1, 503);
        var fallback = $"{{\"strategy\":{{\"mode\":\"fallback\",\"on_status_codes\":[503]}},\"targets\":[{Requests.Target(sim.BaseUrl)},{Requests.Target(backup.BaseUrl)}]}}";
        var (fellBack, fellBackBody) = await ChatAsync(gw, fallback, "fall back", "m-fallback");
        Assert.Equal(HttpStatusCode.OK, fellBack.StatusCode);
        Assert.Single(backup.Requests);
        Count(fellBackBody);

        // A miss then a hit: the hit's tokens were not processed by a provider and are not counted.
        var cached = $"{{\"cache\":{{\"mode\":\"simple\"}},{Requests.Target(sim.BaseUrl)[1..]}";
        var (miss, missBody) = await ChatAsync(gw, cached, "cache me", "m-cache");
        var (hit, _) = await ChatAsync(gw, cached, "cache me", "m-cache");
        Assert.Equal("MISS", miss.Header("x-portkey-cache-status"));
        Assert.Equal("HIT", hit.Header("x-portkey-cache-status"));
        Count(missBody);

        // A stream with usage.
        var (streamed, streamBody) = await ChatAsync(gw, plain, "stream me a few words please", "m-stream", stream: true);
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Count(streamBody);

        // A guardrail that passes one request and denies the next.
        var guarded = Requests.Target(sim.BaseUrl,
            extra: "\"input_guardrails\":[{\"id\":\"no-secrets\",\"default.regexMatch\":{\"rule\":\"forbidden\",\"not\":true},\"deny\":true}]");
        var (passed, passedBody) = await ChatAsync(gw, guarded, "all fine", "m-guard");
        var (denied, _) = await ChatAsync(gw, guarded, "a forbidden word", "m-guard");
        Assert.Equal(HttpStatusCode.OK, passed.StatusCode);
        Assert.Equal((HttpStatusCode)446, denied.StatusCode);
        Count(passedBody);
        const int requests = 3 + 1 + 1 + 2 + 1 + 2;

        // Completion is recorded when the body has been delivered; the log writer counts deliveries in the background.
        var scrape = await ScrapeUntilAsync(gw, s => s.Has("switchyard_logs_delivered_total") && s.Sum("switchyard_logs_delivered_total") == requests);
        output.WriteLine(scrape.Text);

        // Requests by operation, provider, model, status, cache status and stream.
        Assert.Equal("COUNTER", scrape.Type("switchyard_requests_total"));
        Assert.Equal(requests, scrape.Sum("switchyard_requests_total"));
        var plainRequests = Assert.Single(scrape.Samples("switchyard_requests_total", ("gen_ai_request_model", "m-plain")));
        Assert.Equal(3, plainRequests.Value);
        Assert.Equal("chat", plainRequests.Label("gen_ai_operation_name"));
        Assert.Equal("openai", plainRequests.Label("gen_ai_provider_name"));
        Assert.Equal("200", plainRequests.Label("http_response_status_code"));
        Assert.Equal("DISABLED", plainRequests.Label("switchyard_cache_status"));
        Assert.Equal("false", plainRequests.Label("gen_ai_request_stream"));
        Assert.Equal(1, scrape.Sum("switchyard_requests_total", ("gen_ai_request_model", "m-cache"), ("switchyard_cache_status", "MISS")));
        Assert.Equal(1, scrape.Sum("switchyard_requests_total", ("gen_ai_request_model", "m-cache"), ("switchyard_cache_status", "HIT")));
        Assert.Equal(1, scrape.Sum("switchyard_requests_total", ("gen_ai_request_model", "m-stream"), ("gen_ai_request_stream", "true")));
        Assert.Equal(1, scrape.Sum("switchyard_requests_total", ("gen_ai_request_model", "m-guard"), ("http_response_status_code", "446")));
        Assert.Equal(1, scrape.Sum("switchyard_requests_total", ("gen_ai_request_model", "m-guard"), ("http_response_status_code", "200")));

        // Latency toward clients: one observation per request; the denial carries its error.type.
        Assert.Equal("HISTOGRAM", scrape.Type("gen_ai_server_request_duration_seconds"));
        Assert.Equal(requests, scrape.Sum("gen_ai_server_request_duration_seconds"));
        Assert.Equal(1, scrape.Sum("gen_ai_server_request_duration_seconds", ("gen_ai_request_model", "m-guard"), ("error_type", "446")));
        Assert.True(scrape.HistogramSum("gen_ai_server_request_duration_seconds") > 0);
        var ttft = Assert.Single(scrape.Samples("gen_ai_server_time_to_first_token_seconds"));
        Assert.Equal(1, ttft.Value);
        Assert.Equal("m-stream", ttft.Label("gen_ai_request_model"));

        // Upstream attempts: the retried request made two, the fallback two (one per target), hits and denials none.
        Assert.Equal("HISTOGRAM", scrape.Type("gen_ai_client_operation_duration_seconds"));
        Assert.Equal(2, scrape.Sum("gen_ai_client_operation_duration_seconds", ("gen_ai_request_model", "m-retry")));
        Assert.Equal(1, scrape.Sum("gen_ai_client_operation_duration_seconds", ("gen_ai_request_model", "m-retry"), ("error_type", "500")));
        Assert.Equal(1, scrape.Sum("gen_ai_client_operation_duration_seconds", ("gen_ai_request_model", "m-fallback"), ("error_type", "503")));
        Assert.Equal(2, scrape.Sum("gen_ai_client_operation_duration_seconds", ("gen_ai_request_model", "m-fallback")));
        Assert.Equal(1, scrape.Sum("gen_ai_client_operation_duration_seconds", ("gen_ai_request_model", "m-cache")));
        Assert.Equal(1, scrape.Sum("gen_ai_client_operation_duration_seconds", ("gen_ai_request_model", "m-guard")));
        Assert.Equal(1, scrape.Sum("gen_ai_client_operation_time_to_first_chunk_seconds", ("gen_ai_request_model", "m-stream")));

        // Retries and fallbacks, by provider and the error that caused them.
        var retry = Assert.Single(scrape.Samples("switchyard_retries_total"));
        Assert.Equal(1, retry.Value);
        Assert.Equal("500", retry.Label("error_type"));
        Assert.Equal("openai", retry.Label("gen_ai_provider_name"));
        var fell = Assert.Single(scrape.Samples("switchyard_fallbacks_total"));
        Assert.Equal(1, fell.Value);
        Assert.Equal("503", fell.Label("error_type"));

        // Tokens equal to what the simulator reported, for every answer a provider produced (the cache hit excluded).
        Assert.Equal(input, scrape.HistogramSum("gen_ai_client_token_usage", ("gen_ai_token_type", "input")));
        Assert.Equal(output_, scrape.HistogramSum("gen_ai_client_token_usage", ("gen_ai_token_type", "output")));
        Assert.Equal(requests - 2, scrape.Sum("gen_ai_client_token_usage", ("gen_ai_token_type", "input")));
        Assert.Equal(input, scrape.Sum("switchyard_usage_tokens_total", ("switchyard_token_type", "input")));
        Assert.Equal(output_, scrape.Sum("switchyard_usage_tokens_total", ("switchyard_token_type", "output")));
        Assert.True(input > 0 && output_ > 0);

        // Guardrail verdicts per hook and per check.
        Assert.Equal(1, scrape.Sum("switchyard_guardrail_verdicts_total", ("switchyard_guardrail_id", "no-secrets"), ("switchyard_guardrail_verdict", "passed")));
        Assert.Equal(1, scrape.Sum("switchyard_guardrail_verdicts_total", ("switchyard_guardrail_id", "no-secrets"), ("switchyard_guardrail_verdict", "denied")));
        Assert.Equal(2, scrape.Sum("switchyard_guardrail_verdicts_total", ("switchyard_guardrail_event", "before_request")));
        Assert.Equal(1, scrape.Sum("switchyard_guardrail_check_verdicts_total", ("switchyard_guardrail_check", "default.regexMatch"), ("switchyard_guardrail_verdict", "failed")));
        Assert.Equal(1, scrape.Sum("switchyard_guardrail_check_verdicts_total", ("switchyard_guardrail_check", "default.regexMatch"), ("switchyard_guardrail_verdict", "passed")));

        // Live values: no stream is open any more, the log queue drained, the cache store answers.
        Assert.Equal(0, scrape.Sum("switchyard_streams_active"));
        Assert.Equal(0, scrape.Sum("switchyard_logs_queue_depth", ("switchyard_logs_store", "local")));
        Assert.Equal(0, scrape.Sum("switchyard_logs_dropped_total"));
        Assert.Equal(0, scrape.Sum("switchyard_logs_spill_records"));
        Assert.Equal(0, scrape.Sum("switchyard_logs_spill_size_bytes"));
        Assert.Equal(0, scrape.Sum("switchyard_logs_circuit_open"));
        Assert.Equal(1, scrape.Sum("switchyard_cache_store_up", ("switchyard_cache_store", "memory")));
        Assert.Equal(1, scrape.Sum("switchyard_cache_lookups_total", ("status", "HIT")));

        // .NET runtime metrics.
        Assert.Contains(scrape.Names, n => n.StartsWith("dotnet_", StringComparison.Ordinal));
        // No cost series without a known price.
        Assert.False(scrape.Has("switchyard_usage_cost_USD_total"));
    }

    private async Task<PrometheusScrape> ScrapeUntilAsync(TestGateway gw, Func<PrometheusScrape, bool> done, Uri? url = null)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var scrape = await PrometheusScrape.FetchAsync(gw.Client, url ?? new Uri(gw.BaseUrl, "/metrics"), output);
            if (done(scrape) || DateTime.UtcNow > deadline)
            {
                return scrape;
            }
            await Task.Delay(100);
        }
    }
}
