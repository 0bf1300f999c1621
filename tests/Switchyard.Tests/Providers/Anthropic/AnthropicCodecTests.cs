using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Switchyard.Core.Providers.Anthropic;
using Switchyard.Core.Translation;
using Switchyard.Simulators.Anthropic;
using Xunit;

namespace Switchyard.Tests.Providers.Anthropic;

/// <summary>Translation edge cases of <see cref="AnthropicMessagesCodec"/> and <see cref="AnthropicStreamDecoder"/>, and the simulator's Vertex routes.</summary>
public sealed class AnthropicCodecTests
{
    private static JsonObject Obj(string json) => (JsonObject)JsonNode.Parse(json)!;

    [Theory]
    [InlineData("\"auto\"", null, """{"type":"auto"}""")]
    [InlineData("\"required\"", null, """{"type":"any"}""")]
    [InlineData("\"none\"", null, """{"type":"none"}""")]
    [InlineData("""{"type":"function","function":{"name":"f"}}""", null, """{"type":"tool","name":"f"}""")]
    [InlineData("\"auto\"", false, """{"type":"auto","disable_parallel_tool_use":true}""")]
    [InlineData(null, false, """{"type":"auto","disable_parallel_tool_use":true}""")]
    public void Tool_choice_and_parallel_tool_calls_map_to_anthropic(string? choice, bool? parallel, string expected)
    {
        var chat = Obj("""{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]}""");
        if (choice is not null)
        {
            chat["tool_choice"] = JsonNode.Parse(choice);
        }
        if (parallel is { } p)
        {
            chat["parallel_tool_calls"] = p;
        }
        var body = AnthropicMessagesCodec.ToMessagesRequest(chat);
        JsonAssert.Equal(expected, body["tool_choice"]);
        JsonAssert.Equal("""[{"name":"f","input_schema":{"type":"object","properties":{}}}]""", body["tools"]);
    }

    [Theory]
    [InlineData("low", 1024, 4096)]
    [InlineData("medium", 4096, 8192)]
    [InlineData("high", 16384, 20480)]
    public void Reasoning_effort_becomes_a_thinking_budget_and_max_tokens_leaves_room(string effort, int budget, int maxTokens)
    {
        var chat = Obj($$"""{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"{{effort}}","temperature":0.2,"top_k":5}""");
        var body = AnthropicMessagesCodec.ToMessagesRequest(chat);
        JsonAssert.Equal($$"""{"type":"enabled","budget_tokens":{{budget}}}""", body["thinking"]);
        Assert.Equal(maxTokens, body["max_tokens"]!.GetValue<int>());
        Assert.Null(body["temperature"]);
        Assert.Null(body["top_k"]);
    }

    [Fact]
    public void Max_completion_tokens_wins_and_top_k_passes_without_thinking()
    {
        var body = AnthropicMessagesCodec.ToMessagesRequest(Obj("""{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":10,"max_completion_tokens":20,"top_k":7,"stop":"END"}"""));
        Assert.Equal(20, body["max_tokens"]!.GetValue<int>());
        Assert.Equal(7, body["top_k"]!.GetValue<int>());
        JsonAssert.Equal("""["END"]""", body["stop_sequences"]);
    }

    [Fact]
    public void Vertex_shape_has_no_model_and_carries_extra_fields()
    {
        var body = AnthropicMessagesCodec.ToMessagesRequest(Obj("""{"model":"claude","messages":[{"role":"user","content":"x"}]}"""), includeModel: false,
            [new("anthropic_version", "vertex-2023-10-16")]);
        Assert.False(body.ContainsKey("model"));
        Assert.Equal("vertex-2023-10-16", body["anthropic_version"]!.GetValue<string>());
    }

    [Fact]
    public void Message_level_cache_control_lands_on_the_last_block_and_redacted_thinking_goes_first()
    {
        var body = AnthropicMessagesCodec.ToMessagesRequest(Obj("""
            {"model":"m","messages":[
              {"role":"user","content":"long doc","cache_control":{"type":"ephemeral","ttl":"1h"}},
              {"role":"assistant","content":"ok","thinking_blocks":[{"type":"redacted_thinking","data":"abc"}]},
              {"role":"user","content":"q"}]}
            """));
        JsonAssert.Equal("""[{"type":"text","text":"long doc","cache_control":{"type":"ephemeral","ttl":"1h"}}]""", body["messages"]![0]!["content"]);
        JsonAssert.Equal("""[{"type":"redacted_thinking","data":"abc"},{"type":"text","text":"ok"}]""", body["messages"]![1]!["content"]);
    }

    [Fact]
    public void Unsupported_content_and_roles_are_400s()
    {
        var audio = Assert.Throws<TranslationException>(() => AnthropicMessagesCodec.ToMessagesRequest(
            Obj("""{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]}]}""")));
        Assert.Equal(400, audio.Status);
        Assert.Contains("input_audio", audio.Message);
        var ftp = Assert.Throws<TranslationException>(() => AnthropicMessagesCodec.ToMessagesRequest(
            Obj("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}""")));
        Assert.Contains("http(s) URL or a base64 data URI", ftp.Message);
    }

    [Fact]
    public void Response_with_thinking_tools_and_cache_usage_maps_to_a_chat_completion()
    {
        var message = """
            {"id":"msg_1","type":"message","role":"assistant","model":"claude-x","stop_reason":"tool_use","stop_sequence":null,
             "content":[{"type":"thinking","thinking":"hmm","signature":"s1"},{"type":"text","text":"Let me check."},
                        {"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}],
             "usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":7}}
            """;
        var completion = AnthropicMessagesCodec.ToChatCompletion(Encoding.UTF8.GetBytes(message), Obj("""{"model":"m","messages":[]}"""), 123);
        JsonAssert.Equal("""
            {"id":"msg_1","object":"chat.completion","created":123,"model":"claude-x","choices":[{"index":0,
              "message":{"role":"assistant","content":"Let me check.",
                "tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}],
                "reasoning_content":"hmm","thinking_blocks":[{"type":"thinking","thinking":"hmm","signature":"s1"}]},
              "logprobs":null,"finish_reason":"tool_calls","native_finish_reason":"tool_use"}],
             "usage":{"prompt_tokens":115,"completion_tokens":7,"total_tokens":122,"prompt_tokens_details":{"cached_tokens":100},
               "cache_read_input_tokens":100,"cache_creation_input_tokens":5}}
            """, completion);
    }

    [Fact]
    public void Stream_decoder_handles_events_split_at_any_byte_and_emits_one_usage_chunk()
    {
        var sse = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_s","model":"claude-y","usage":{"input_tokens":12,"cache_read_input_tokens":3,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_9","name":"g","input":{}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"q\":"}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"v\"}"}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}

            event: message_stop
            data: {"type":"message_stop"}


            """.Replace("\r\n", "\n");
        var bytes = Encoding.UTF8.GetBytes(sse);
        var decoder = new AnthropicStreamDecoder(Obj("""{"model":"m","messages":[]}"""), 1);
        var chunks = new List<JsonObject>();
        for (var i = 0; i < bytes.Length; i += 7)
        {
            decoder.Feed(bytes.AsSpan(i, Math.Min(7, bytes.Length - i)), chunks);
        }
        decoder.Finish(chunks);

        Assert.Equal(6, chunks.Count);
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        JsonAssert.Equal("""[{"index":0,"id":"toolu_9","type":"function","function":{"name":"g","arguments":""}}]""", chunks[1]["choices"]![0]!["delta"]!["tool_calls"]);
        Assert.Equal("{\"q\":", chunks[2]["choices"]![0]!["delta"]!["tool_calls"]![0]!["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal("tool_calls", chunks[4]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        JsonAssert.Equal("""{"prompt_tokens":15,"completion_tokens":9,"total_tokens":24,"prompt_tokens_details":{"cached_tokens":3},"cache_read_input_tokens":3,"cache_creation_input_tokens":0}""", chunks[5]["usage"]);
        Assert.All(chunks, c => Assert.Equal("msg_s", c["id"]!.GetValue<string>()));
    }

    [Fact]
    public void Stream_that_ends_early_is_a_502()
    {
        var decoder = new AnthropicStreamDecoder(Obj("""{"model":"m","messages":[]}"""), 1);
        var chunks = new List<JsonObject>();
        decoder.Feed(Encoding.UTF8.GetBytes("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"x\"}}\n\n"), chunks);
        var ex = Assert.Throws<TranslationException>(() => decoder.Finish(chunks));
        Assert.Equal(502, ex.Status);
    }

    [Fact]
    public async Task Simulator_serves_claude_on_vertex_with_bearer_auth_and_no_model_field()
    {
        await using var sim = await AnthropicSimulator.StartAsync();
        using var http = new HttpClient();
        var url = new Uri(sim.Root, "/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5:rawPredict");
        var chat = Obj("""{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi vertex"}]}""");
        var body = AnthropicMessagesCodec.ToMessagesRequest(chat, includeModel: false, [new("anthropic_version", "vertex-2023-10-16")]);

        async Task<HttpResponseMessage> Post(Uri target, JsonObject json, string? bearer)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new StringContent(json.ToJsonString(), Encoding.UTF8, "application/json") };
            if (bearer is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
            }
            return await http.SendAsync(request);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(url, body, null)).StatusCode);
        var ok = await Post(url, body, "ya29.token");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var completion = AnthropicMessagesCodec.ToChatCompletion(await ok.Content.ReadAsByteArrayAsync(), chat, 1);
        Assert.Equal("echo: hi vertex", completion["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("claude-sonnet-4-5", completion["model"]!.GetValue<string>());

        var withModel = (JsonObject)body.DeepClone();
        withModel["model"] = "claude";
        var rejected = await Post(url, withModel, "ya29.token");
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.Contains("model: Extra inputs are not permitted", await rejected.Content.ReadAsStringAsync());

        var streamBody = (JsonObject)body.DeepClone();
        streamBody["stream"] = true;
        var streamed = await Post(new Uri(url.ToString().Replace(":rawPredict", ":streamRawPredict")), streamBody, "ya29.token");
        var decoder = new AnthropicStreamDecoder(chat, 1);
        var chunks = new List<JsonObject>();
        decoder.Feed(await streamed.Content.ReadAsByteArrayAsync(), chunks);
        decoder.Finish(chunks);
        Assert.Equal("echo: hi vertex", string.Concat(chunks.Select(c => c["choices"] is JsonArray { Count: > 0 } a ? a[0]!["delta"]!["content"]?.GetValue<string>() : null)));
    }

    [Fact]
    public async Task Simulator_rejects_what_the_real_api_rejects()
    {
        await using var sim = await AnthropicSimulator.StartAsync();
        using var http = new HttpClient();
        async Task<(int, string)> Send(string json, bool version = true)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, sim.BaseUrl + "/messages") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            request.Headers.Add("x-api-key", "k");
            if (version)
            {
                request.Headers.Add("anthropic-version", "2023-06-01");
            }
            var response = await http.SendAsync(request);
            var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("error", error["type"]!.GetValue<string>());
            Assert.Equal("invalid_request_error", error["error"]!["type"]!.GetValue<string>());
            return ((int)response.StatusCode, error["error"]!["message"]!.GetValue<string>());
        }

        var (status, text) = await Send("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}""", version: false);
        Assert.Equal(400, status);
        Assert.Contains("anthropic-version", text);
        (status, text) = await Send("""{"model":"m","max_tokens":5,"n":2,"messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal(400, status);
        Assert.Equal("n: Extra inputs are not permitted", text);
        (status, text) = await Send("""{"model":"m","messages":[{"role":"user","content":"x"}]}""");
        Assert.Contains("max_tokens: Field required", text);
        (status, text) = await Send("""{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":"x"}]}""");
        Assert.Contains("first message", text);
        (status, text) = await Send("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},{"role":"user","content":"no result"}]}""");
        Assert.Contains("`tool_use` ids were found without `tool_result` blocks immediately after: t1", text);
        (status, text) = await Send("""{"model":"m","max_tokens":2000,"thinking":{"type":"enabled","budget_tokens":2000},"messages":[{"role":"user","content":"x"}]}""");
        Assert.Contains("`max_tokens` must be greater than `thinking.budget_tokens`", text);
        (status, text) = await Send("""{"model":"m","max_tokens":5,"tools":[{"name":"f","input_schema":{"type":"string"}}],"messages":[{"role":"user","content":"x"}]}""");
        Assert.Contains("input_schema.type", text);
        Assert.Equal(400, status);
    }
}
