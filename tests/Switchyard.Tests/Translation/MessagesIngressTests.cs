using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Translation;

/// <summary>/v1/messages (Anthropic format) served by an OpenAI-format target: request, response, stream and errors translated.</summary>
public sealed class MessagesIngressTests
{
    private static (string, string)[] Headers(OpenAiSimulator sim) =>
        [("x-portkey-provider", "openai"), ("x-api-key", "sk-anthropic-client"), ("anthropic-version", "2023-06-01"), ("x-portkey-custom-host", sim.BaseUrl.ToString())];

    private static List<(string Event, JsonElement Data)> Events(string sse)
    {
        var list = new List<(string, JsonElement)>();
        foreach (var block in sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            var name = lines.First(l => l.StartsWith("event: ", StringComparison.Ordinal))["event: ".Length..];
            var data = lines.First(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
            list.Add((name, JsonDocument.Parse(data).RootElement.Clone()));
        }
        return list;
    }

    [Fact]
    public async Task A_messages_request_reaches_an_openai_target_as_chat_and_comes_back_as_an_anthropic_message()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var body = """
        {"model":"gpt-4o-mini","max_tokens":300,"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
         "temperature":0.3,"top_p":0.9,"stop_sequences":["END"],"metadata":{"user_id":"u-42"},
         "messages":[{"role":"user","content":"hello translator"},
                     {"role":"assistant","content":[{"type":"text","text":"Calling."},{"type":"tool_use","id":"toolu_1","name":"lookup","input":{"q":"x"}}]},
                     {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"42"}]},{"type":"text","text":"and now?"},
                       {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]}]}
        """;
        var response = await gw.SendAsync(TestGateway.Post("/v1/messages", body, Headers(sim)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var message = await response.JsonAsync();

        // What the OpenAI target received.
        var upstream = JsonNode.Parse(sim.Requests[0].Body)!.AsObject();
        Assert.Equal("/v1/chat/completions", sim.Requests[0].Path);
        Assert.Equal("Bearer sk-anthropic-client", sim.Requests[0].Headers["Authorization"]);
        Assert.Equal(300, upstream["max_tokens"]!.GetValue<int>());
        Assert.Equal(0.3, upstream["temperature"]!.GetValue<double>());
        Assert.Equal("END", upstream["stop"]![0]!.GetValue<string>());
        Assert.Equal("u-42", upstream["user"]!.GetValue<string>());
        var messages = upstream["messages"]!.AsArray();
        Assert.Equal(["system", "user", "assistant", "tool", "user"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal("Be brief.", messages[0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("lookup", messages[2]!["tool_calls"]![0]!["function"]!["name"]!.GetValue<string>());
        Assert.Equal("{\"q\":\"x\"}", messages[2]!["tool_calls"]![0]!["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal("toolu_1", messages[3]!["tool_call_id"]!.GetValue<string>());
        Assert.Equal("42", messages[3]!["content"]!.GetValue<string>());
        Assert.Equal("data:image/png;base64,iVBORw0KGgo=", messages[4]!["content"]![1]!["image_url"]!["url"]!.GetValue<string>());

        // What the client got: an Anthropic message.
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.StartsWith("msg_", message.GetProperty("id").GetString());
        Assert.Equal("end_turn", message.GetProperty("stop_reason").GetString());
        var text = message.GetProperty("content")[0];
        Assert.Equal("text", text.GetProperty("type").GetString());
        Assert.Contains("and now?", text.GetProperty("text").GetString());
        Assert.True(message.GetProperty("usage").GetProperty("input_tokens").GetInt32() > 0);
        Assert.True(message.GetProperty("usage").GetProperty("output_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task A_streamed_tool_call_arrives_as_anthropic_events_with_input_json_deltas_and_usage()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var request = """
        {"model":"gpt-4o-mini","max_tokens":200,"stream":true,
         "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],
         "tool_choice":{"type":"any"},
         "messages":[{"role":"user","content":"weather in Paris"}]}
        """;
        var response = await gw.SendAsync(TestGateway.Post("/v1/messages", request, Headers(sim)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = Events(await response.Content.ReadAsStringAsync());

        var upstream = JsonNode.Parse(sim.Requests[0].Body)!.AsObject();
        Assert.Equal("required", upstream["tool_choice"]!.GetValue<string>());
        Assert.Equal("get_weather", upstream["tools"]![0]!["function"]!["name"]!.GetValue<string>());
        Assert.True(upstream["stream_options"]!["include_usage"]!.GetValue<bool>());

        Assert.Equal("message_start", events[0].Event);
        Assert.Equal("message_stop", events[^1].Event);
        Assert.Equal("message_delta", events[^2].Event);
        Assert.Equal("tool_use", events[^2].Data.GetProperty("delta").GetProperty("stop_reason").GetString());
        var start = events.Single(e => e.Event == "content_block_start");
        Assert.Equal("tool_use", start.Data.GetProperty("content_block").GetProperty("type").GetString());
        Assert.Equal("get_weather", start.Data.GetProperty("content_block").GetProperty("name").GetString());
        var pieces = events.Where(e => e.Event == "content_block_delta").Select(e => e.Data.GetProperty("delta")).ToList();
        Assert.All(pieces, p => Assert.Equal("input_json_delta", p.GetProperty("type").GetString()));
        Assert.True(pieces.Count > 1, "the arguments should arrive in several pieces");
        var input = JsonDocument.Parse(string.Concat(pieces.Select(p => p.GetProperty("partial_json").GetString()))).RootElement;
        Assert.Equal(JsonValueKind.Object, input.ValueKind);
        Assert.Single(events, e => e.Event == "content_block_stop");
        var usage = events[^2].Data.GetProperty("usage");
        Assert.True(usage.GetProperty("input_tokens").GetInt32() > 0);
        Assert.True(usage.GetProperty("output_tokens").GetInt32() > 0);

        // The same exchange without streaming reports the same usage.
        var plain = await gw.SendAsync(TestGateway.Post("/v1/messages", request.Replace("\"stream\":true,", ""), Headers(sim)));
        var plainUsage = (await plain.JsonAsync()).GetProperty("usage");
        Assert.Equal(plainUsage.GetProperty("input_tokens").GetInt32(), usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(plainUsage.GetProperty("output_tokens").GetInt32(), usage.GetProperty("output_tokens").GetInt32());
    }

    [Fact]
    public async Task An_upstream_error_and_a_gateway_error_both_come_back_in_anthropic_shape()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        sim.FailNext(1, 429);
        var request = """{"model":"gpt-4o-mini","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}""";
        var limited = await gw.SendAsync(TestGateway.Post("/v1/messages", request, Headers(sim)));
        Assert.Equal((HttpStatusCode)429, limited.StatusCode);
        var error = await limited.JsonAsync();
        Assert.Equal("error", error.GetProperty("type").GetString());
        Assert.Equal("rate_limit_error", error.GetProperty("error").GetProperty("type").GetString());
        Assert.StartsWith("openai error:", error.GetProperty("error").GetProperty("message").GetString());

        var missing = await gw.SendAsync(TestGateway.Post("/v1/messages", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Headers(sim)));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var invalid = await missing.JsonAsync();
        Assert.Equal("invalid_request_error", invalid.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("max_tokens", invalid.GetProperty("error").GetProperty("message").GetString());
        Assert.Single(sim.Requests); // the invalid request never went upstream
    }
}
