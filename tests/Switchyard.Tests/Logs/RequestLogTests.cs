using System.Net;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Logs;

/// <summary>The local log store: one JSON line per request with routing, outcome and usage, written off the request path.</summary>
public sealed class RequestLogTests
{
    internal static async Task<List<JsonElement>> RecordsAsync(TestGateway gw, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var lines = Directory.Exists(gw.Options.Engine.Logs.Directory)
                ? Directory.EnumerateFiles(gw.Options.Engine.Logs.Directory, "requests-*.jsonl")
                    .SelectMany(f => { using var r = new StreamReader(new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)); return r.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries); })
                    .ToList()
                : [];
            if (lines.Count >= expected || DateTime.UtcNow > deadline)
            {
                return lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
            }
            await Task.Delay(25);
        }
    }

    /// <summary>The newest record with <paramref name="traceId"/>, waiting for the writer (bounded).</summary>
    internal static async Task<JsonElement> RecordAsync(TestGateway gw, string traceId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var found = (await RecordsAsync(gw, 1)).Where(r => r.GetProperty("trace_id").GetString() == traceId).ToList();
            if (found.Count > 0)
            {
                return found[^1];
            }
            Assert.True(DateTime.UtcNow < deadline, $"no record for {traceId}");
            await Task.Delay(25);
        }
    }

    [Fact]
    public async Task A_stream_without_include_usage_asks_upstream_for_usage_hides_it_from_the_client_and_logs_it()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("usage please", stream: true),
            [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-trace-id", "usage-hidden")]));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Upstream was asked for usage, the client (which did not ask) sees no usage chunk, and the stream still ends properly.
        var upstream = JsonDocument.Parse(sim.Requests[0].Body).RootElement;
        Assert.True(upstream.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.DoesNotContain("\"usage\"", text, StringComparison.Ordinal);
        Assert.Contains("echo: usage please".Split(' ')[1], text, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", text);

        var direct = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("usage please"), Requests.HeaderMode(sim.BaseUrl)));
        var expected = (await direct.JsonAsync()).GetProperty("usage");
        var record = (await RecordsAsync(gw, 2)).Single(r => r.GetProperty("trace_id").GetString() == "usage-hidden");
        Assert.Equal(expected.GetProperty("prompt_tokens").GetInt32(), record.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(expected.GetProperty("completion_tokens").GetInt32(), record.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.True(record.GetProperty("usage").GetProperty("total_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Each_request_is_logged_with_routing_outcome_and_usage_for_json_and_streams()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(new Dictionary<string, string>
        {
            ["logged.json"] = $"{{\"retry\":{{\"attempts\":2}},{Requests.Target(sim.BaseUrl)[1..]}",
        });
        sim.FailNext(1, 503);
        var chat = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("count my tokens"),
            ("x-portkey-config", "logged"), ("x-portkey-trace-id", "log-1")));
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        var usage = (await chat.JsonAsync()).GetProperty("usage");
        var stream = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("stream my tokens", stream: true, includeUsage: true),
            [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-trace-id", "log-2")]));
        var streamText = await stream.Content.ReadAsStringAsync();
        var bad = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-trace-id", "log-3")));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        var records = (await RecordsAsync(gw, 3)).ToDictionary(r => r.GetProperty("trace_id").GetString()!);
        var first = records["log-1"];
        Assert.Equal("chatComplete", first.GetProperty("fn").GetString());
        Assert.Equal("named", first.GetProperty("config_mode").GetString());
        Assert.Equal("logged.json", first.GetProperty("config_name").GetString());
        Assert.Equal("openai", first.GetProperty("provider").GetString());
        Assert.Equal("gpt-4o-mini", first.GetProperty("request_model").GetString());
        Assert.Equal(1, first.GetProperty("retry_attempt_count").GetInt32());
        Assert.Equal(200, first.GetProperty("status").GetInt32());
        Assert.Equal(usage.GetProperty("total_tokens").GetInt32(), first.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), first.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.True(first.GetProperty("duration_ms").GetDouble() > 0);

        var second = records["log-2"];
        Assert.True(second.GetProperty("stream").GetBoolean());
        Assert.Equal("headers", second.GetProperty("config_mode").GetString());
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(streamText), second.GetProperty("response_bytes").GetInt64());
        Assert.True(second.GetProperty("usage").GetProperty("total_tokens").GetInt32() > 0);

        var third = records["log-3"];
        Assert.Equal(400, third.GetProperty("status").GetInt32());
        Assert.Equal("InvalidRequest", third.GetProperty("error").GetString());
        Assert.False(third.TryGetProperty("usage", out _));
    }

    [Fact]
    public async Task A_client_that_leaves_is_logged_as_aborted_and_no_log_is_written_when_disabled()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { StreamEventInterval = TimeSpan.FromMilliseconds(100) });
        await using var gw = await TestGateway.StartAsync();
        using (var client = new HttpClient { BaseAddress = gw.BaseUrl })
        {
            var response = await client.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(string.Join(' ', Enumerable.Repeat("w", 30)), stream: true),
                [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-trace-id", "gone")]), HttpCompletionOption.ResponseHeadersRead);
            var s = await response.Content.ReadAsStreamAsync();
            Assert.True(await s.ReadAsync(new byte[16]) > 0);
        }
        var record = Assert.Single(await RecordsAsync(gw, 1));
        Assert.Equal("gone", record.GetProperty("trace_id").GetString());
        Assert.True(record.GetProperty("client_aborted").GetBoolean());

        await using var quiet = await TestGateway.StartAsync(settings: s => s with { Logs = s.Logs with { Store = "none" } });
        Assert.Null(quiet.Engine.RequestLog);
        await quiet.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.HeaderMode(sim.BaseUrl)));
        Assert.False(Directory.Exists(quiet.Options.Engine.Logs.Directory));
    }

    [Fact]
    public async Task Records_queued_at_shutdown_reach_the_disk()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var gw = await TestGateway.StartAsync();
        var dir = gw.Options.Engine.Logs.Directory;
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.HeaderMode(sim.BaseUrl)))));
        await gw.App.StopAsync();
        await gw.App.DisposeAsync();
        var lines = Directory.EnumerateFiles(dir).SelectMany(File.ReadAllLines).ToList();
        Assert.Equal(50, lines.Count);
        Directory.Delete(dir, true);
    }
}
