using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Logs;
using Xunit;

namespace Switchyard.Tests.Guardrails.Integration;

/// <summary>Guardrails on streamed answers (status, hook_results event, PII redaction) and webhook guardrails against a loopback server.</summary>
public sealed class GuardrailStreamAndWebhookTests
{
    private const string Email = "john.doe@example.com";

    private static List<(string? Event, string Data)> Events(string sse)
    {
        var list = new List<(string?, string)>();
        foreach (var block in sse.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            var data = new StringBuilder();
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event:", StringComparison.Ordinal)) name = line[6..].Trim();
                else if (line.StartsWith("data:", StringComparison.Ordinal)) data.Append(line[5..].TrimStart());
            }
            list.Add((name, data.ToString()));
        }
        return list;
    }

    private static string ChatText(List<(string? Event, string Data)> events) => string.Concat(events
        .Where(e => e.Data.StartsWith('{') && !e.Data.Contains("\"hook_results\"", StringComparison.Ordinal))
        .Select(e => JsonNode.Parse(e.Data)!["choices"]?.AsArray().FirstOrDefault()?["delta"]?["content"]?.GetValue<string>() ?? ""));

    [Fact]
    public async Task A_stream_with_a_failed_input_check_is_246_and_carries_hook_results_first_only_when_strict_mode_is_off()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: "\"input_guardrails\":[{\"id\":\"in\",\"default.contains\":{\"words\":[\"secret\"],\"operator\":\"none\"}}]");

        var strict = await GuardrailGatewayTests.Chat(gw, config, "a secret plan", stream: true);
        Assert.Equal((HttpStatusCode)246, strict.StatusCode);
        Assert.Equal("text/event-stream", strict.Content.Headers.ContentType?.MediaType);
        var strictEvents = Events(await strict.Content.ReadAsStringAsync());
        Assert.DoesNotContain(strictEvents, e => e.Data.Contains("hook_results", StringComparison.Ordinal));
        Assert.Equal("echo: a secret plan", ChatText(strictEvents));
        Assert.Equal("[DONE]", strictEvents[^1].Data);

        var relaxed = await GuardrailGatewayTests.Chat(gw, config, "a secret plan", stream: true, ("x-portkey-strict-open-ai-compliance", "false"));
        Assert.Equal((HttpStatusCode)246, relaxed.StatusCode);
        var events = Events(await relaxed.Content.ReadAsStringAsync());
        Assert.Null(events[0].Event);
        var first = JsonDocument.Parse(events[0].Data).RootElement;
        var before = first.GetProperty("hook_results").GetProperty("before_request_hooks");
        Assert.Equal("in", before[0].GetProperty("id").GetString());
        Assert.False(before[0].GetProperty("verdict").GetBoolean());
        Assert.False(first.GetProperty("hook_results").TryGetProperty("after_request_hooks", out _));
        Assert.Equal("echo: a secret plan", ChatText(events));

        // Passing hooks: 200, and the event still comes first when strict mode is off.
        var passing = await GuardrailGatewayTests.Chat(gw, config, "a public plan", stream: true, ("x-portkey-strict-open-ai-compliance", "false"));
        Assert.Equal(HttpStatusCode.OK, passing.StatusCode);
        Assert.Contains("hook_results", Events(await passing.Content.ReadAsStringAsync())[0].Data);
    }

    [Fact]
    public async Task Messages_streams_get_an_event_named_hook_results()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: "\"strict_open_ai_compliance\":false,\"input_guardrails\":[{\"default.wordCount\":{\"minWords\":1,\"maxWords\":50}}]");
        var body = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":64,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi there\"}]}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/messages", body, ("x-portkey-config", config)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = Events(await response.Content.ReadAsStringAsync());
        Assert.Equal("hook_results", events[0].Event);
        Assert.True(JsonDocument.Parse(events[0].Data).RootElement.GetProperty("hook_results").GetProperty("before_request_hooks")[0].GetProperty("verdict").GetBoolean());
        Assert.Equal("message_start", events[1].Event);
    }

    [Fact]
    public async Task Pii_is_redacted_from_a_streamed_chat_answer_as_it_passes()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: "\"output_guardrails\":[{\"id\":\"pii-out\",\"default.pii\":{\"categories\":[\"email\"]}}]");
        var response = await GuardrailGatewayTests.Chat(gw, config, $"write to {Email} today please", stream: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sse = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Email, sse);
        var events = Events(sse);
        Assert.Equal("echo: write to [EMAIL] today please", ChatText(events));
        Assert.Equal("[DONE]", events[^1].Data);
        // The address reached the provider (only the output is guarded) and the simulator streamed it word by word.
        Assert.Contains(Email, sim.Requests[0].BodyText);

        // The end-of-stream run of the after-request hooks is logged.
        var record = (await RequestLogTests.RecordsAsync(gw, 1)).Single();
        var after = record.GetProperty("hook_results").GetProperty("after_request_hooks");
        Assert.Equal("pii-out", after[0].GetProperty("id").GetString());
        Assert.True(after[0].GetProperty("checks")[0].GetProperty("data").GetProperty("detected").GetBoolean());
    }

    [Fact]
    public async Task Pii_is_redacted_from_a_streamed_messages_answer()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: "\"output_guardrails\":[{\"default.pii\":{}}]");
        var body = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":64,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"mail " + Email + " now\"}]}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/messages", body, ("x-portkey-config", config)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sse = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Email, sse);
        var events = Events(sse);
        var text = string.Concat(events.Where(e => e.Event == "content_block_delta")
            .Select(e => JsonNode.Parse(e.Data)!["delta"]?["text"]?.GetValue<string>() ?? ""));
        Assert.Equal("echo: mail [EMAIL] now", text);
        Assert.Equal("message_stop", events[^1].Event);
        // The held tail went out before the block closed.
        var lastDelta = events.FindLastIndex(e => e.Event == "content_block_delta");
        Assert.True(lastDelta < events.FindIndex(e => e.Event == "content_block_stop"));
    }

    [Fact]
    public async Task Pii_is_redacted_from_a_streamed_responses_answer_including_the_events_that_repeat_the_text()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: "\"output_guardrails\":[{\"default.pii\":{}}]");
        var body = "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"input\":\"mail " + Email + " now\"}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/responses", body, ("x-portkey-config", config)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sse = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Email, sse);
        var events = Events(sse);
        var text = string.Concat(events.Where(e => e.Event == "response.output_text.delta")
            .Select(e => JsonNode.Parse(e.Data)!["delta"]!.GetValue<string>()));
        Assert.Contains("[EMAIL]", text);
        Assert.Contains(events, e => e.Event == "response.completed" && e.Data.Contains("[EMAIL]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task After_request_hooks_leave_an_upstream_error_untouched_and_are_logged_as_skipped()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        sim.FailNext(1, 400);
        var config = Requests.Target(sim.BaseUrl, extra: "\"output_guardrails\":[{\"id\":\"out\",\"default.wordCount\":{\"minWords\":1,\"maxWords\":9},\"deny\":true}]");
        var response = await GuardrailGatewayTests.Chat(gw, config);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False((await response.JsonAsync()).TryGetProperty("hook_results", out _));
        var record = (await RequestLogTests.RecordsAsync(gw, 1)).Single();
        var after = record.GetProperty("hook_results").GetProperty("after_request_hooks");
        Assert.Equal("out", after[0].GetProperty("id").GetString());
        Assert.True(after[0].GetProperty("skipped").GetBoolean());
    }

    [Fact]
    public async Task Pii_is_redacted_from_a_json_answer_with_hook_results()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = Requests.Target(sim.BaseUrl, extra: "\"output_guardrails\":[{\"default.pii\":{}}]");
        var response = await GuardrailGatewayTests.Chat(gw, config, $"mail {Email}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("echo: mail [EMAIL]", body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.True(body.GetProperty("hook_results").GetProperty("after_request_hooks")[0].GetProperty("transformed").GetBoolean());
        Assert.Equal(response.Content.Headers.ContentLength, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task A_webhook_guardrail_can_pass_fail_time_out_answer_garbage_and_rewrite_the_request()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var hook = await LoopbackServer.StartAsync(async (ctx, body) =>
        {
            ctx.Response.ContentType = "application/json";
            switch (ctx.Request.Path.Value)
            {
                case "/pass": await ctx.Response.WriteAsync("{\"verdict\":true}"); break;
                case "/fail": await ctx.Response.WriteAsync("{\"verdict\":false}"); break;
                case "/late": await Task.Delay(2000); await ctx.Response.WriteAsync("{\"verdict\":true}"); break;
                case "/garbage": ctx.Response.ContentType = "text/plain"; await ctx.Response.WriteAsync("<html>nope"); break;
                case "/rewrite":
                    var json = JsonNode.Parse(body)!["request"]!["json"]!;
                    json["messages"]![0]!["content"] = "rewritten by webhook";
                    await ctx.Response.WriteAsync(new JsonObject
                    {
                        ["verdict"] = true,
                        ["transformedData"] = new JsonObject { ["request"] = new JsonObject { ["json"] = json.DeepClone() } },
                    }.ToJsonString());
                    break;
            }
        });
        await using var gw = await TestGateway.StartAsync();
        string Config(string path, string extra = "") => Requests.Target(sim.BaseUrl,
            extra: $"\"input_guardrails\":[{{\"default.webhook\":{{\"webhookURL\":\"{hook.Url(path)}\"{extra}}},\"deny\":true}}]");

        Assert.Equal(HttpStatusCode.OK, (await GuardrailGatewayTests.Chat(gw, Config("/pass"))).StatusCode);
        Assert.Equal((HttpStatusCode)446, (await GuardrailGatewayTests.Chat(gw, Config("/fail"))).StatusCode);

        // An error counts as a pass unless failOnError: the request goes through, the error is in the results.
        var late = await GuardrailGatewayTests.Chat(gw, Config("/late", ",\"timeout\":200"));
        Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        var lateCheck = (await late.JsonAsync()).GetProperty("hook_results").GetProperty("before_request_hooks")[0].GetProperty("checks")[0];
        Assert.Equal("TimeoutError", lateCheck.GetProperty("error").GetProperty("name").GetString());
        var strictLate = await GuardrailGatewayTests.Chat(gw, Config("/late", ",\"timeout\":200,\"failOnError\":true"));
        Assert.Equal((HttpStatusCode)446, strictLate.StatusCode);

        var garbage = await GuardrailGatewayTests.Chat(gw, Config("/garbage", ",\"failOnError\":true"));
        Assert.Equal((HttpStatusCode)446, garbage.StatusCode);
        Assert.Contains("JSON object", (await garbage.JsonAsync()).GetProperty("hook_results").GetProperty("before_request_hooks")[0]
            .GetProperty("checks")[0].GetProperty("error").GetProperty("message").GetString());

        sim.ClearRequests();
        var rewritten = await GuardrailGatewayTests.Chat(gw, Config("/rewrite"), "original text");
        Assert.Equal(HttpStatusCode.OK, rewritten.StatusCode);
        Assert.Equal("echo: rewritten by webhook", (await rewritten.JsonAsync()).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Contains("rewritten by webhook", sim.Requests.Single().BodyText);
        Assert.DoesNotContain("original text", sim.Requests.Single().BodyText);
    }
}
