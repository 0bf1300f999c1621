using System.Net;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Simulators.Anthropic;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Logs;

/// <summary>What a log record holds beyond routing and usage: bodies (streams reassembled), redacted headers, metadata, and the switches that keep bodies out.</summary>
public sealed class LogDocumentTests
{
    private static string RawLog(TestGateway gw) => string.Concat(Directory.EnumerateFiles(gw.Options.Engine.Logs.Directory, "requests-*.jsonl")
        .Select(f => { using var r = new StreamReader(new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)); return r.ReadToEnd(); }));

    [Fact]
    public async Task A_json_exchange_is_logged_with_both_bodies_and_portkey_document_fields()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("log my body"),
            [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-trace-id", "doc-1"), ("x-request-id", "abc")]));
        var answer = await response.JsonAsync();
        var record = await RequestLogTests.RecordAsync(gw, "doc-1");

        Assert.NotEqual("doc-1", record.GetProperty("_id").GetString()); // the client named the trace; the record has its own id
        Assert.True(Guid.TryParse(record.GetProperty("_id").GetString(), out var id) && id.Version == 7);
        Assert.EndsWith("Z", record.GetProperty("created_at").GetString());
        var request = record.GetProperty("request");
        Assert.Equal("/v1/chat/completions", request.GetProperty("url").GetString());
        Assert.Equal("POST", request.GetProperty("method").GetString());
        Assert.Equal("log my body", request.GetProperty("body").GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Equal("abc", request.GetProperty("headers").GetProperty("x-request-id").GetString());
        Assert.Equal("openai", request.GetProperty("portkeyHeaders").GetProperty("x-portkey-provider").GetString());
        var logged = record.GetProperty("response");
        Assert.Equal(200, logged.GetProperty("status").GetInt32());
        Assert.Equal(answer.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(),
            logged.GetProperty("body").GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("provider", record.GetProperty("usage").GetProperty("source").GetString());
        Assert.False(logged.GetProperty("streamingMode").GetBoolean());
    }

    [Fact]
    public async Task A_chat_stream_is_logged_as_the_one_answer_it_delivered()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("stream me a story", stream: true),
            [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-trace-id", "doc-stream")]));
        var sse = await response.Content.ReadAsStringAsync();
        var streamed = string.Concat(sse.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l[6..]).RootElement.GetProperty("choices"))
            .Where(c => c.GetArrayLength() > 0)
            .Select(c => c[0].GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : ""));
        Assert.True(streamed.Length > 0);

        var record = await RequestLogTests.RecordAsync(gw, "doc-stream");
        var body = record.GetProperty("response").GetProperty("body");
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        Assert.Equal(streamed, body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.True(record.GetProperty("response").GetProperty("streamingMode").GetBoolean());
    }

    [Fact]
    public async Task An_anthropic_messages_stream_is_logged_as_the_message_it_delivered()
    {
        await using var sim = await AnthropicSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["anthropic"] = sim.BaseUrl.ToString() } } });
        var body = """{"model":"claude-sonnet-4-5","max_tokens":200,"stream":true,"messages":[{"role":"user","content":"tell me about logs"}]}""";
        var response = await gw.SendAsync(TestGateway.Post("/v1/messages", body,
            ("x-portkey-provider", "anthropic"), ("x-api-key", "sk-ant-secret-1234"), ("anthropic-version", "2023-06-01"), ("x-portkey-trace-id", "doc-anthropic")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sse = await response.Content.ReadAsStringAsync();
        var text = string.Concat(sse.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l[6..]).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "content_block_delta" && e.GetProperty("delta").GetProperty("type").GetString() == "text_delta")
            .Select(e => e.GetProperty("delta").GetProperty("text").GetString()));

        var record = await RequestLogTests.RecordAsync(gw, "doc-anthropic");
        var message = record.GetProperty("response").GetProperty("body");
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal(text, message.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("end_turn", message.GetProperty("stop_reason").GetString());
        Assert.True(record.GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);
        Assert.DoesNotContain("sk-ant-secret-1234", RawLog(gw), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Secrets_never_reach_the_log()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var inline = Requests.Target(sim.BaseUrl, key: "sk-inline-very-secret");
        await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("secrets"),
            ("x-portkey-config", inline), ("x-portkey-api-key", "pk-gateway-secret"), ("Cookie", "session=cookie-secret"),
            ("x-portkey-aws-secret-access-key", "aws-very-secret"), ("x-portkey-trace-id", "doc-secret")));
        await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("bearer"),
            [.. Requests.HeaderMode(sim.BaseUrl, key: "sk-bearer-very-secret"), ("x-portkey-trace-id", "doc-secret-2")]));
        var record = await RequestLogTests.RecordAsync(gw, "doc-secret");
        await RequestLogTests.RecordAsync(gw, "doc-secret-2");

        var raw = RawLog(gw);
        foreach (var secret in new[] { "sk-inline-very-secret", "pk-gateway-secret", "cookie-secret", "aws-very-secret", "sk-bearer-very-secret" })
        {
            Assert.DoesNotContain(secret, raw, StringComparison.Ordinal);
        }
        // The config is still readable, with its key redacted.
        var config = JsonDocument.Parse(record.GetProperty("request").GetProperty("portkeyHeaders").GetProperty("x-portkey-config").GetString()!).RootElement;
        Assert.Equal("openai", config.GetProperty("provider").GetString());
        Assert.Equal("[redacted]", config.GetProperty("api_key").GetString());
    }

    [Fact]
    public async Task Bodies_stay_out_when_the_request_the_config_or_the_setting_says_so()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(new Dictionary<string, string>
        {
            ["quiet.json"] = $"{{\"logging\":{{\"bodies\":false}},{Requests.Target(sim.BaseUrl)[1..]}",
            ["short.json"] = $"{{\"logging\":{{\"max_body_bytes\":40}},{Requests.Target(sim.BaseUrl)[1..]}",
        });
        await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("debug off"),
            [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-debug", "false"), ("x-portkey-trace-id", "quiet-1")]));
        await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("config off"), ("x-portkey-config", "quiet"), ("x-portkey-trace-id", "quiet-2")));
        await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("a long prompt that the short config cuts well before its end"),
            ("x-portkey-config", "short"), ("x-portkey-trace-id", "short-1")));

        foreach (var id in new[] { "quiet-1", "quiet-2" })
        {
            var record = await RequestLogTests.RecordAsync(gw, id);
            Assert.False(record.GetProperty("request").TryGetProperty("body", out _));
            Assert.False(record.GetProperty("response").TryGetProperty("body", out _));
            Assert.True(record.GetProperty("usage").GetProperty("total_tokens").GetInt32() > 0); // usage is still recorded
        }
        var cut = await RequestLogTests.RecordAsync(gw, "short-1");
        var requestBody = cut.GetProperty("request").GetProperty("body");
        Assert.Equal(JsonValueKind.String, requestBody.ValueKind);
        Assert.Equal(40, System.Text.Encoding.UTF8.GetByteCount(requestBody.GetString()!));
        Assert.True(cut.GetProperty("request").GetProperty("body_truncated").GetBoolean());
        Assert.True(cut.GetProperty("request").GetProperty("body_bytes").GetInt32() > 40);
        Assert.DoesNotContain("debug off", RawLog(gw), StringComparison.Ordinal);
        Assert.DoesNotContain("config off", RawLog(gw), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_setting_turns_bodies_off_for_every_request()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Logs = s.Logs with { LogBodies = false } });
        await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("setting off"), [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-trace-id", "off-1")]));
        var record = await RequestLogTests.RecordAsync(gw, "off-1");
        Assert.False(record.GetProperty("request").TryGetProperty("body", out _));
        Assert.DoesNotContain("setting off", RawLog(gw), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metadata_comes_from_the_metadata_header_and_the_named_headers_and_ignore_service_log_skips_the_record()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Logs = s.Logs with { HeadersToMetadata = ["x-caller-service", "x-api-key"] } });
        await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("meta"),
            [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-metadata", """{"_user":"ann","team":"search"}"""), ("x-caller-service", "billing"),
                ("x-api-key", "never-copied"), ("x-portkey-trace-id", "meta-1")]));
        await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("skip me"),
            [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-ignore-service-log", "true"), ("x-portkey-trace-id", "meta-skip")]));
        await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("after"), [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-trace-id", "meta-2")]));

        var record = await RequestLogTests.RecordAsync(gw, "meta-1");
        var metadata = record.GetProperty("metadata");
        Assert.Equal("ann", metadata.GetProperty("_user").GetString());
        Assert.Equal("search", metadata.GetProperty("team").GetString());
        Assert.Equal("billing", metadata.GetProperty("x-caller-service").GetString());
        Assert.Equal("[redacted]", metadata.GetProperty("x-api-key").GetString());
        await RequestLogTests.RecordAsync(gw, "meta-2"); // written after the skipped one
        Assert.DoesNotContain("meta-skip", RawLog(gw), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_lookup_is_off_by_default_and_when_on_returns_the_record_by_log_id_or_trace_id()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using (var closed = await TestGateway.StartAsync())
        {
            var refused = await closed.Client.GetAsync("/v1/logs/anything");
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("LOG_LOOKUP_ENABLED", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Logs = s.Logs with { LookupEnabled = true } });
        var own = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("find me"), Requests.HeaderMode(sim.BaseUrl)));
        var traceId = own.Header("x-portkey-trace-id");
        await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("named trace"), [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-trace-id", "client-trace-7")]));
        var named = await RequestLogTests.RecordAsync(gw, "client-trace-7");
        await RequestLogTests.RecordAsync(gw, traceId);

        var byTrace = await gw.Client.GetAsync($"/v1/logs/{traceId}");
        Assert.Equal(HttpStatusCode.OK, byTrace.StatusCode);
        var found = await byTrace.JsonAsync();
        Assert.Equal(traceId, found.GetProperty("_id").GetString()); // the gateway's trace id is the record id
        Assert.Equal("find me", found.GetProperty("request").GetProperty("body").GetProperty("messages")[0].GetProperty("content").GetString());

        var byClientTrace = await (await gw.Client.GetAsync("/v1/logs/client-trace-7")).JsonAsync();
        Assert.Equal(named.GetProperty("_id").GetString(), byClientTrace.GetProperty("_id").GetString());
        var byLogId = await (await gw.Client.GetAsync($"/v1/logs/{named.GetProperty("_id").GetString()}")).JsonAsync();
        Assert.Equal("client-trace-7", byLogId.GetProperty("trace_id").GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await gw.Client.GetAsync($"/v1/logs/{Guid.CreateVersion7()}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await gw.Client.GetAsync("/v1/logs/%22quoted%22")).StatusCode);
    }

    [Theory]
    [InlineData("""{"logging":{"bodies":"no"},"provider":"openai","api_key":"k"}""", "logging.bodies")]
    [InlineData("""{"logging":{"max_body_bytes":-1},"provider":"openai","api_key":"k"}""", "logging.max_body_bytes")]
    [InlineData("""{"logging":{"bodys":false},"provider":"openai","api_key":"k"}""", "logging.bodys")]
    [InlineData("""{"logging":true,"provider":"openai","api_key":"k"}""", "logging")]
    [InlineData("""{"strategy":{"mode":"fallback"},"targets":[{"provider":"openai","api_key":"k","logging":{"bodies":false}}]}""", "targets[0].logging")]
    public async Task A_bad_logging_block_is_refused_with_its_path(string config, string path)
    {
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", config)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(path, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
