using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Translation;

/// <summary>/v1/responses (OpenAI Responses API) served by a target that only has chat completions.</summary>
public sealed class ResponsesIngressTests
{
    // Groq has no Responses API of its own here, so the gateway translates to chat.
    private static (string, string)[] Headers(OpenAiSimulator sim) =>
        [("x-portkey-provider", "groq"), ("Authorization", "Bearer gsk-test"), ("x-portkey-custom-host", sim.BaseUrl.ToString())];

    private static List<(string Event, JsonElement Data)> Events(string sse) =>
        sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block =>
        {
            var lines = block.Split('\n');
            var name = lines.First(l => l.StartsWith("event: ", StringComparison.Ordinal))["event: ".Length..];
            var data = lines.First(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
            return (name, JsonDocument.Parse(data).RootElement.Clone());
        }).ToList();

    [Fact]
    public async Task A_responses_request_is_sent_as_chat_and_answered_as_a_response_object()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var body = """
        {"model":"llama-3.3-70b","instructions":"Answer tersely.","max_output_tokens":120,"temperature":0.2,
         "input":[{"role":"user","content":[{"type":"input_text","text":"first question"}]},
                  {"type":"function_call","call_id":"call_9","name":"search","arguments":"{\"q\":\"a\"}"},
                  {"type":"function_call_output","call_id":"call_9","output":"found it"},
                  {"role":"user","content":[{"type":"input_text","text":"summarise"},{"type":"input_image","image_url":"https://example.com/cat.png","detail":"low"}]}],
         "text":{"format":{"type":"json_schema","name":"answer","schema":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false},"strict":true}}}
        """;
        var response = await gw.SendAsync(TestGateway.Post("/v1/responses", body, Headers(sim)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.JsonAsync();

        Assert.Equal("/v1/chat/completions", sim.Requests[0].Path);
        var upstream = JsonNode.Parse(sim.Requests[0].Body)!.AsObject();
        Assert.Equal(120, upstream["max_tokens"]!.GetValue<int>());
        Assert.Equal(["system", "user", "assistant", "tool", "user"], upstream["messages"]!.AsArray().Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal("Answer tersely.", upstream["messages"]![0]!["content"]!.GetValue<string>());
        Assert.Equal("call_9", upstream["messages"]![2]!["tool_calls"]![0]!["id"]!.GetValue<string>());
        Assert.Equal("found it", upstream["messages"]![3]!["content"]!.GetValue<string>());
        Assert.Equal("https://example.com/cat.png", upstream["messages"]![4]!["content"]![1]!["image_url"]!["url"]!.GetValue<string>());
        Assert.Equal("json_schema", upstream["response_format"]!["type"]!.GetValue<string>());
        Assert.Equal("answer", upstream["response_format"]!["json_schema"]!["name"]!.GetValue<string>());
        Assert.True(upstream["response_format"]!["json_schema"]!["strict"]!.GetValue<bool>());

        Assert.Equal("response", result.GetProperty("object").GetString());
        Assert.Equal("completed", result.GetProperty("status").GetString());
        var item = result.GetProperty("output")[0];
        Assert.Equal("message", item.GetProperty("type").GetString());
        Assert.Equal("output_text", item.GetProperty("content")[0].GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(item.GetProperty("content")[0].GetProperty("text").GetString()));
        var usage = result.GetProperty("usage");
        Assert.Equal(usage.GetProperty("input_tokens").GetInt32() + usage.GetProperty("output_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
        Assert.True(usage.GetProperty("input_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task A_streamed_function_call_arrives_as_responses_events_and_usage_matches_the_unstreamed_answer()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var body = """
        {"model":"llama-3.3-70b","stream":true,"input":"weather in Oslo","tool_choice":"required",
         "tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]}
        """;
        var response = await gw.SendAsync(TestGateway.Post("/v1/responses", body, Headers(sim)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = Events(await response.Content.ReadAsStringAsync());

        Assert.Equal("response.created", events[0].Event);
        Assert.Equal("response.completed", events[^1].Event);
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data.GetProperty("sequence_number").GetInt32()));
        var added = events.Single(e => e.Event == "response.output_item.added").Data.GetProperty("item");
        Assert.Equal("function_call", added.GetProperty("type").GetString());
        Assert.Equal("get_weather", added.GetProperty("name").GetString());
        var deltas = events.Where(e => e.Event == "response.function_call_arguments.delta").Select(e => e.Data.GetProperty("delta").GetString()).ToList();
        Assert.True(deltas.Count > 1, "arguments should arrive in several pieces");
        var done = events.Single(e => e.Event == "response.function_call_arguments.done").Data.GetProperty("arguments").GetString();
        Assert.Equal(string.Concat(deltas), done);
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(done!).RootElement.ValueKind);
        var final = events[^1].Data.GetProperty("response");
        Assert.Equal(done, final.GetProperty("output")[0].GetProperty("arguments").GetString());

        var plain = await gw.SendAsync(TestGateway.Post("/v1/responses", body.Replace("\"stream\":true,", ""), Headers(sim)));
        var expected = (await plain.JsonAsync()).GetProperty("usage");
        var streamed = final.GetProperty("usage");
        Assert.Equal(expected.GetProperty("input_tokens").GetInt32(), streamed.GetProperty("input_tokens").GetInt32());
        Assert.Equal(expected.GetProperty("output_tokens").GetInt32(), streamed.GetProperty("output_tokens").GetInt32());
        Assert.True(streamed.GetProperty("output_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Previous_response_id_and_built_in_tools_are_refused_with_a_clear_400_before_any_upstream_call()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var chained = await gw.SendAsync(TestGateway.Post("/v1/responses", """{"model":"m","input":"hi","previous_response_id":"resp_1"}""", Headers(sim)));
        Assert.Equal(HttpStatusCode.BadRequest, chained.StatusCode);
        Assert.Contains("previous_response_id", await chained.Content.ReadAsStringAsync());
        var search = await gw.SendAsync(TestGateway.Post("/v1/responses", """{"model":"m","input":"hi","tools":[{"type":"web_search"}]}""", Headers(sim)));
        Assert.Equal(HttpStatusCode.BadRequest, search.StatusCode);
        Assert.Contains("web_search", await search.Content.ReadAsStringAsync());
        Assert.Empty(sim.Requests);
    }

    [Fact]
    public async Task An_openai_target_gets_the_responses_request_untouched()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var body = """{"model":"gpt-5","input":"hi","previous_response_id":"resp_kept","tools":[{"type":"web_search"}],"store":true}""";
        await gw.SendAsync(TestGateway.Post("/v1/responses", body, Requests.HeaderMode(sim.BaseUrl)));
        var upstream = Assert.Single(sim.Requests);
        Assert.Equal("/v1/responses", upstream.Path);
        Assert.Equal(body, upstream.BodyText);
    }
}
