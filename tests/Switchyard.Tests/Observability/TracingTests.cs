using System.Net;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Observability;

/// <summary>
/// Spans exported over OTLP/HTTP to a receiver on loopback: the request span continuing the client's W3C context, the
/// attempts as its children (their context sent upstream in traceparent), the cache lookup and the guardrail runs,
/// with the GenAI attributes and the resource the settings describe.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TracingTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const string ClientTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string ClientSpanId = "00f067aa0ba902b7";

    private static Dictionary<string, string> Tracing(OtlpTraceReceiver receiver, params (string Name, string Value)[] extra)
    {
        var env = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.BaseUrl.ToString(),
            // Export finished spans within 50 ms instead of the default 5 s.
            ["OTEL_BSP_SCHEDULE_DELAY"] = "50",
        };
        foreach (var (name, value) in extra)
        {
            env[name] = value;
        }
        return env;
    }

    [Fact]
    public async Task A_request_span_continues_the_client_trace_with_attempt_cache_and_guardrail_children_and_genai_attributes()
    {
        await using var receiver = await OtlpTraceReceiver.StartAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(environment: Tracing(receiver,
            ("SERVICE_NAME", "switchyard-under-test"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test,team=gateway%20ops"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-collector-key=let%20me%20in")));
        var config = Requests.Target(sim.BaseUrl, extra:
            "\"retry\":{\"attempts\":2,\"on_status_codes\":[500]},\"cache\":{\"mode\":\"simple\"},"
            + "\"input_guardrails\":[{\"id\":\"in\",\"default.regexMatch\":{\"rule\":\"forbidden\",\"not\":true},\"deny\":true}],"
            + "\"output_guardrails\":[{\"id\":\"out\",\"default.regexMatch\":{\"rule\":\"^echo\"}}]");
        sim.FailNext(1, 500);
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("trace this request", "m-traced"),
            ("x-portkey-config", config), ("x-portkey-trace-id", "trace-me"),
            ("traceparent", $"00-{ClientTraceId}-{ClientSpanId}-01"), ("tracestate", "vendor=abc")));
        var body = await response.JsonAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var usage = body.GetProperty("usage");

        var spans = await receiver.WaitForAsync(s => s.Count(x => x.TraceId == ClientTraceId) >= 7, Patience);
        var trace = spans.Where(s => s.TraceId == ClientTraceId).ToList();
        foreach (var span in trace)
        {
            output.WriteLine($"{span.Name} kind={span.Kind} {span.SpanId} <- {span.ParentSpanId}: {string.Join(", ", span.Attributes.Select(a => $"{a.Key}={Show(a.Value)}"))}");
        }

        // The request span: a server span under the client's span, named "{operation} {model}".
        var request = Assert.Single(trace, s => s.Kind == ReceivedSpan.Server);
        Assert.Equal(ClientSpanId, request.ParentSpanId);
        Assert.Equal("chat m-traced", request.Name);
        Assert.Equal("Switchyard", request.Scope);
        Assert.Equal("chat", request.Attribute("gen_ai.operation.name"));
        Assert.Equal("m-traced", request.Attribute("gen_ai.request.model"));
        Assert.Equal("openai", request.Attribute("gen_ai.provider.name"));
        Assert.Equal("openai", request.Attribute("gen_ai.system"));
        Assert.Equal(body.GetProperty("model").GetString(), request.Attribute("gen_ai.response.model"));
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt64(), request.Attribute("gen_ai.usage.input_tokens"));
        Assert.Equal(usage.GetProperty("completion_tokens").GetInt64(), request.Attribute("gen_ai.usage.output_tokens"));
        Assert.Equal(200L, request.Attribute("http.response.status_code"));
        Assert.Equal("trace-me", request.Attribute("switchyard.trace_id"));
        Assert.Equal("MISS", request.Attribute("switchyard.cache.status"));
        Assert.Equal("vendor=abc", request.TraceState);
        Assert.True(request.EndUnixNano >= request.StartUnixNano);

        // Two attempts, children of the request span: the 500 (an error) and the answer.
        var attempts = trace.Where(s => s.Kind == ReceivedSpan.Client).OrderBy(s => (long)s.Attribute("switchyard.retry")!).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a =>
        {
            Assert.Equal(request.SpanId, a.ParentSpanId);
            Assert.Equal("chat m-traced", a.Name);
            Assert.Equal("openai", a.Attribute("gen_ai.provider.name"));
            Assert.Equal("openai", a.Attribute("gen_ai.system"));
            Assert.Equal("m-traced", a.Attribute("gen_ai.request.model"));
            Assert.Equal("127.0.0.1", a.Attribute("server.address"));
            Assert.Equal((long)sim.Port, a.Attribute("server.port"));
        });
        Assert.Equal(500L, attempts[0].Attribute("http.response.status_code"));
        Assert.Equal("500", attempts[0].Attribute("error.type"));
        Assert.Equal(2, attempts[0].StatusCode);
        Assert.Equal(200L, attempts[1].Attribute("http.response.status_code"));
        Assert.Null(attempts[1].Attribute("error.type"));
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt64(), attempts[1].Attribute("gen_ai.usage.input_tokens"));
        Assert.Equal(body.GetProperty("model").GetString(), attempts[1].Attribute("gen_ai.response.model"));

        // Each attempt's context reached the simulator: same trace, the attempt span as parent, the client's tracestate.
        Assert.Equal(2, sim.Requests.Count);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal($"00-{ClientTraceId}-{attempts[i].SpanId}-01", sim.Requests[i].Headers["traceparent"]);
            Assert.Equal("vendor=abc", sim.Requests[i].Headers["tracestate"]);
        }

        // The cache lookup and the guardrail runs under the request span.
        var lookup = Assert.Single(trace, s => s.Name == "cache.lookup");
        Assert.Equal(request.SpanId, lookup.ParentSpanId);
        Assert.Equal("MISS", lookup.Attribute("switchyard.cache.status"));
        var before = Assert.Single(trace, s => s.Name == "guardrails.before_request");
        Assert.Equal(request.SpanId, before.ParentSpanId);
        Assert.Equal("passed", before.Attribute("switchyard.guardrail.verdict"));
        Assert.Equal(new object?[] { "in" }, (object?[])before.Attribute("switchyard.guardrail.hook_ids")!);
        var after = trace.Where(s => s.Name == "guardrails.after_request").ToList();
        Assert.Equal(2, after.Count); // one per attempt
        Assert.All(after, a => Assert.Equal(request.SpanId, a.ParentSpanId));

        // The resource: service.name from SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES percent-decoded; the export headers.
        Assert.Equal("switchyard-under-test", request.Resource["service.name"]);
        Assert.Equal("test", request.Resource["deployment.environment"]);
        Assert.Equal("gateway ops", request.Resource["team"]);
        Assert.Contains(receiver.RequestHeaders, h => h.TryGetValue("x-collector-key", out var v) && v == "let me in");
    }

    [Fact]
    public async Task A_request_without_traceparent_starts_a_trace_and_a_stream_span_ends_with_the_stream()
    {
        await using var receiver = await OtlpTraceReceiver.StartAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(environment: Tracing(receiver));
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("a few streamed words", "m-streamed", stream: true, includeUsage: true),
            ("x-portkey-config", Requests.Target(sim.BaseUrl)), ("x-portkey-trace-id", "stream-trace")));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var spans = await receiver.WaitForAsync(s => s.Any(x => x.Attribute("switchyard.trace_id") as string == "stream-trace")
            && s.Any(x => x.Kind == ReceivedSpan.Client && x.Attribute("gen_ai.request.model") as string == "m-streamed"), Patience);
        var request = spans.Single(s => s.Attribute("switchyard.trace_id") as string == "stream-trace");
        Assert.Null(request.ParentSpanId);
        Assert.Equal(true, request.Attribute("gen_ai.request.stream"));
        var attempt = spans.Single(s => s.TraceId == request.TraceId && s.Kind == ReceivedSpan.Client);
        Assert.Equal(request.SpanId, attempt.ParentSpanId);
        // The answering attempt lasts until the stream has been delivered, and knows its time to first chunk.
        Assert.True(attempt.Attribute("gen_ai.response.time_to_first_chunk") is double ttfc && ttfc >= 0);
        Assert.True(attempt.EndUnixNano >= attempt.StartUnixNano);
        Assert.True(attempt.EndUnixNano <= request.EndUnixNano);
        Assert.True(attempt.Attribute("gen_ai.usage.output_tokens") is long tokens && tokens > 0, text);
        Assert.StartsWith($"00-{request.TraceId}-{attempt.SpanId}-", sim.Requests[0].Headers["traceparent"]);
    }

    [Fact]
    public async Task A_traceparent_the_config_forwards_is_kept_and_the_opt_in_drops_gen_ai_system()
    {
        await using var receiver = await OtlpTraceReceiver.StartAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(environment: Tracing(receiver, ("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")));
        var client = $"00-{ClientTraceId}-{ClientSpanId}-01";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("forwarded", "m-forward"),
            ("x-portkey-config", Requests.Target(sim.BaseUrl, extra: "\"forward_headers\":[\"traceparent\"]")), ("traceparent", client)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The config asked for the client's header: it reaches the provider unchanged.
        Assert.Equal(client, sim.Requests[0].Headers["traceparent"]);

        var spans = await receiver.WaitForAsync(s => s.Any(x => x.TraceId == ClientTraceId && x.Kind == ReceivedSpan.Client), Patience);
        var attempt = spans.Single(s => s.TraceId == ClientTraceId && s.Kind == ReceivedSpan.Client);
        Assert.Equal("openai", attempt.Attribute("gen_ai.provider.name"));
        Assert.Null(attempt.Attribute("gen_ai.system"));
    }

    [Fact]
    public async Task With_tracing_off_no_span_is_made_and_no_traceparent_goes_upstream()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        Assert.False(Switchyard.Core.Telemetry.SwitchyardTracing.IsEnabled);
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("untraced", "m-untraced"),
            ("x-portkey-config", Requests.Target(sim.BaseUrl)), ("traceparent", $"00-{ClientTraceId}-{ClientSpanId}-01")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(sim.Requests[0].Headers.ContainsKey("traceparent"));
        Assert.False(sim.Requests[0].Headers.ContainsKey("tracestate"));
    }

    private static string Show(object? value) => value is object?[] array ? "[" + string.Join(",", array) + "]" : JsonSerializer.Serialize(value);
}
