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
        // The cache's lookup counter is process-wide (one static meter), so other gateways in this test process add to it.
        Assert.True(scrape.Sum("switchyard_cache_lookups_total", ("status", "HIT")) >= 1);

        // .NET runtime metrics.
        Assert.Contains(scrape.Names, n => n.StartsWith("dotnet_", StringComparison.Ordinal));
        // No cost for models without a price; the cache hit is known to cost nothing (no provider billed it).
        var cost = Assert.Single(scrape.Samples("switchyard_usage_cost_USD_total"));
        Assert.Equal("m-cache", cost.Label("gen_ai_request_model"));
        Assert.Equal(0, cost.Value);
    }

    [Fact]
    public async Task A_guardrail_denial_the_router_falls_back_from_counts_as_a_fallback_and_not_as_a_provider_call()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var denying = Requests.Target(sim.BaseUrl,
            extra: "\"input_guardrails\":[{\"id\":\"strict\",\"default.regexMatch\":{\"rule\":\"secret\",\"not\":true},\"deny\":true}]");
        var config = $"{{\"strategy\":{{\"mode\":\"fallback\"}},\"targets\":[{denying},{Requests.Target(sim.BaseUrl)}]}}";
        var (answer, _) = await ChatAsync(gw, config, "a secret question", "m-guarded-fallback");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Single(sim.Requests);

        var scrape = await ScrapeUntilAsync(gw, s => s.Has("switchyard_fallbacks_total"));
        var fell = Assert.Single(scrape.Samples("switchyard_fallbacks_total"));
        Assert.Equal(1, fell.Value);
        Assert.Equal("446", fell.Label("error_type"));
        Assert.Equal(1, scrape.Sum("switchyard_guardrail_verdicts_total", ("switchyard_guardrail_id", "strict"), ("switchyard_guardrail_verdict", "denied")));
        // The denial never reached a provider: one provider call, the one that answered.
        Assert.Equal(1, scrape.Sum("gen_ai_client_operation_duration_seconds", ("gen_ai_request_model", "m-guarded-fallback")));
        Assert.Equal(1, scrape.Sum("switchyard_requests_total", ("gen_ai_request_model", "m-guarded-fallback"), ("http_response_status_code", "200")));
    }

    [Fact]
    public async Task A_metrics_port_serves_metrics_alone_and_the_main_port_no_longer_does()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(environment: new Dictionary<string, string> { ["METRICS_PORT"] = "0" });
        Assert.NotEqual(gw.BaseUrl.Port, gw.MetricsUrl.Port);
        var (answer, _) = await ChatAsync(gw, Requests.Target(sim.BaseUrl), "hello", "m-port");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        var scrape = await ScrapeUntilAsync(gw, s => s.Has("switchyard_requests_total"), new Uri(gw.MetricsUrl, "/metrics"));
        Assert.Equal(1, scrape.Sum("switchyard_requests_total", ("gen_ai_request_model", "m-port")));

        // The API stays on the main port, and /metrics leaves it (an ingress in front of it must not expose it).
        using var mainMetrics = await gw.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, mainMetrics.StatusCode);
        using var metricsHealth = await gw.Client.GetAsync(new Uri(gw.MetricsUrl, "/v1/health"));
        Assert.Equal(HttpStatusCode.NotFound, metricsHealth.StatusCode);
        using var mainHealth = await gw.Client.GetAsync("/v1/health");
        Assert.Equal(HttpStatusCode.OK, mainHealth.StatusCode);
    }

    [Fact]
    public async Task Enable_prometheus_false_answers_metrics_with_404_and_still_serves_requests()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(environment: new Dictionary<string, string> { ["ENABLE_PROMETHEUS"] = "false" });
        var (answer, _) = await ChatAsync(gw, Requests.Target(sim.BaseUrl), "hello", "m-off");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        using var metrics = await gw.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, metrics.StatusCode);
        Assert.Equal("application/json", metrics.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_opt_in_switches_to_the_newer_genai_names_with_usage_counters_by_modality()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(environment: new Dictionary<string, string>
        {
            ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "http,gen_ai_latest_experimental",
        });
        long input = 0, output_ = 0;
        for (var i = 0; i < 2; i++)
        {
            var (answer, body) = await ChatAsync(gw, Requests.Target(sim.BaseUrl), $"newer names {i}", "m-latest", stream: i == 1);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            var (a, b) = Usage(body);
            input += a;
            output_ += b;
        }
        var scrape = await ScrapeUntilAsync(gw, s => s.Has("switchyard_requests_total") && s.Sum("switchyard_requests_total") == 2);
        output.WriteLine(scrape.Text);

        Assert.Equal(2, scrape.Sum("gen_ai_client_inference_duration_seconds", ("gen_ai_request_model", "m-latest")));
        Assert.Equal(1, scrape.Sum("gen_ai_client_inference_time_to_first_chunk_seconds", ("gen_ai_request_model", "m-latest")));
        Assert.Equal(input, scrape.Sum("gen_ai_client_inference_usage_input_tokens_total", ("gen_ai_token_modality", "text")));
        Assert.Equal(output_, scrape.Sum("gen_ai_client_inference_usage_output_tokens_total", ("gen_ai_token_modality", "text")));
        Assert.Equal("COUNTER", scrape.Type("gen_ai_client_inference_usage_input_tokens_total"));
        Assert.False(scrape.Has("gen_ai_client_operation_duration_seconds"));
        Assert.False(scrape.Has("gen_ai_client_token_usage"));
        // Names toward clients and the gateway's own series do not change with the opt-in.
        Assert.Equal(2, scrape.Sum("gen_ai_server_request_duration_seconds"));
        Assert.Equal(input, scrape.Sum("switchyard_usage_tokens_total", ("switchyard_token_type", "input")));
    }

    [Fact]
    public async Task Open_ended_labels_are_bounded_and_only_allow_listed_metadata_becomes_labels()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(environment: new Dictionary<string, string>
        {
            ["METRICS_LABEL_VALUE_LIMIT"] = "2",
            ["PROMETHEUS_INCLUDE_METADATA_LABELS"] = "true",
            ["PROMETHEUS_LABELS_METADATA_ALLOWED_KEYS"] = "team",
        });
        var target = Requests.Target(sim.BaseUrl);
        foreach (var (model, team) in new[] { ("m-a", "red"), ("m-b", "blue"), ("m-c", "green"), ("m-d", "red"), ("m-a", "red") })
        {
            var (answer, _) = await ChatAsync(gw, target, "bounded", model, extra: ("x-portkey-metadata", $"{{\"team\":\"{team}\",\"user\":\"u-{model}\"}}"));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
        var scrape = await ScrapeUntilAsync(gw, s => s.Has("switchyard_requests_total") && s.Sum("switchyard_requests_total") == 5);

        // The first two models keep their names; every later one is _other.
        var models = scrape.Samples("switchyard_requests_total").GroupBy(s => s.Label("gen_ai_request_model")).ToDictionary(g => g.Key!, g => g.Sum(s => s.Value));
        Assert.Equal(new Dictionary<string, double> { ["m-a"] = 2, ["m-b"] = 1, ["_other"] = 2 }, models);
        Assert.Equal(2, scrape.Sum("gen_ai_server_request_duration_seconds", ("gen_ai_request_model", "_other")));
        // metadata_team is bounded the same way; the key that is not allow-listed never becomes a label.
        var teams = scrape.Samples("switchyard_requests_total").GroupBy(s => s.Label("metadata_team")).ToDictionary(g => g.Key!, g => g.Sum(s => s.Value));
        Assert.Equal(new Dictionary<string, double> { ["red"] = 3, ["blue"] = 1, ["_other"] = 1 }, teams);
        Assert.DoesNotContain(scrape.Samples("switchyard_requests_total"), s => s.Labels.Keys.Any(k => k.Contains("user", StringComparison.Ordinal)));
        Assert.DoesNotContain("u-m-a", scrape.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_open_stream_counts_as_active_until_it_ends()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        sim.StepMode = true;
        var request = TestGateway.Post("/v1/chat/completions", Requests.Chat("one two three four five six", "m-live", stream: true),
            ("x-portkey-config", Requests.Target(sim.BaseUrl)));
        using var response = await gw.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        Assert.True(await body.ReadAsync(new byte[64]) > 0);

        var during = await ScrapeUntilAsync(gw, s => s.Sum("switchyard_streams_active") == 1);
        Assert.Equal(1, during.Sum("switchyard_streams_active"));
        Assert.Equal("GAUGE", during.Type("switchyard_streams_active"));

        var rest = Task.Run(async () => await new StreamReader(body).ReadToEndAsync());
        while (!rest.IsCompleted)
        {
            sim.ReleaseNextEvent();
            await Task.WhenAny(rest, Task.Delay(20));
        }
        Assert.EndsWith("data: [DONE]\n\n", await rest);
        var after = await ScrapeUntilAsync(gw, s => s.Sum("switchyard_streams_active") == 0);
        Assert.Equal(0, after.Sum("switchyard_streams_active"));
        Assert.Equal(1, after.Sum("switchyard_requests_total", ("gen_ai_request_model", "m-live"), ("gen_ai_request_stream", "true")));
    }

    [Fact]
    public async Task Health_reports_log_delivery_and_the_cache_store()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            var (answer, _) = await ChatAsync(gw, Requests.Target(sim.BaseUrl), "health", "m-health");
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
        // Records reach the disk in the background: wait (bounded) for the writer.
        var deadline = DateTime.UtcNow + Patience;
        var logs = (await (await gw.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("logs");
        while (logs.GetProperty("delivered").GetInt64() < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            logs = (await (await gw.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("logs");
        }
        Assert.Equal("local", logs.GetProperty("store").GetString());
        Assert.Equal("ok", logs.GetProperty("state").GetString());
        Assert.Equal(3, logs.GetProperty("delivered").GetInt64());
        Assert.Equal(0, logs.GetProperty("queue_depth").GetInt64());
        Assert.Equal(0, logs.GetProperty("dropped").GetInt64());
        Assert.Equal(0, logs.GetProperty("spilled_records").GetInt64());
        Assert.Equal(0, logs.GetProperty("spilled_bytes").GetInt64());
        Assert.False(logs.GetProperty("circuit_open").GetBoolean());
        var health = await (await gw.Client.GetAsync("/v1/health")).JsonAsync();
        Assert.Equal("ok", health.GetProperty("cache").GetProperty("state").GetString());

        await using var quiet = await TestGateway.StartAsync(settings: s => s with { Logs = s.Logs with { Store = "none" } });
        var none = (await (await quiet.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("logs");
        Assert.Equal("none", none.GetProperty("store").GetString());
        Assert.Equal("disabled", none.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Cost_is_served_in_dollars_for_requests_whose_price_is_known()
    {
        await using var gw = await TestGateway.StartAsync();
        // The price table fills RequestContext.Cost before the request is recorded; here the engine records two
        // completed requests directly, one priced and one of an unknown model.
        foreach (var (model, price) in new[] { ("m-priced", (decimal?)0.0125m), ("m-unknown", null) })
        {
            var context = gw.Engine.CreateContext();
            context.Request = new Switchyard.Core.Requests.GatewayRequest
            {
                Method = "POST", Endpoint = Switchyard.Core.Requests.EndpointKind.ChatComplete, Path = "/v1/chat/completions",
                UpstreamPath = "/chat/completions", Headers = new Switchyard.Core.Requests.HeaderBag(),
                Body = System.Text.Encoding.UTF8.GetBytes(Requests.Chat("priced", model)), ContentType = "application/json",
            };
            context.Provider = "anthropic";
            context.Status = 200;
            context.Cost = price;
            context.ReportUsage(null, model);
            context.SetEstimatedUsage(new Switchyard.Core.Usage.TokenUsage(100, 20, 120, 40, 0, 10));
            gw.Engine.Metrics.Record(context);
        }
        var scrape = await ScrapeUntilAsync(gw, s => s.Has("switchyard_usage_cost_USD_total"));
        output.WriteLine(scrape.Text);
        var cost = Assert.Single(scrape.Samples("switchyard_usage_cost_USD_total"));
        Assert.Equal(0.0125, cost.Value, 9);
        Assert.Equal("m-priced", cost.Label("gen_ai_request_model"));
        Assert.Equal("anthropic", cost.Label("gen_ai_provider_name"));
        Assert.Equal(80, scrape.Sum("switchyard_usage_tokens_total", ("switchyard_token_type", "cache_read")));
        Assert.Equal(20, scrape.Sum("switchyard_usage_tokens_total", ("switchyard_token_type", "cache_write"), ("switchyard_usage_source", "estimated")));
        Assert.Empty(scrape.Samples("switchyard_usage_tokens_total", ("switchyard_token_type", "reasoning")));
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
