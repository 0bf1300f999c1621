using System.Net;
using System.Text.Json.Nodes;
using Switchyard.Simulators.Anthropic;
using Switchyard.Tests.Infrastructure;
using Xunit;
using static Switchyard.Tests.Providers.Anthropic.AnthropicHarness;

namespace Switchyard.Tests.Providers.Anthropic;

/// <summary>OpenAI chat through the gateway to the Anthropic simulator: what went upstream and what came back.</summary>
public sealed class AnthropicChatTests
{
    [Fact]
    public async Task Chat_is_sent_as_messages_with_anthropic_headers_and_comes_back_as_a_chat_completion()
    {
        await using var h = await StartAsync();
        var body = Chat(User("hello there"));
        body["temperature"] = 1.5;
        body["top_p"] = 0.9;
        body["user"] = "user-42";
        body["presence_penalty"] = 0.5;
        var completion = await h.ChatJsonAsync(body);

        var seen = Assert.Single(h.Sim.Requests);
        Assert.Equal("/v1/messages", seen.Path);
        Assert.Equal(Key, seen.Headers["x-api-key"]);
        Assert.Equal("2023-06-01", seen.Headers["anthropic-version"]);
        Assert.False(seen.Headers.ContainsKey("anthropic-beta"));
        Assert.False(seen.Headers.ContainsKey("Authorization"));
        JsonAssert.Equal("""
            {"model":"claude-sonnet-4-5","messages":[{"role":"user","content":[{"type":"text","text":"hello there"}]}],
             "max_tokens":4096,"temperature":1,"top_p":0.9,"metadata":{"user_id":"user-42"}}
            """, h.Sim.LastBody);

        Assert.Equal("chat.completion", completion["object"]!.GetValue<string>());
        Assert.StartsWith("msg_sim_", completion["id"]!.GetValue<string>());
        Assert.Equal("claude-sonnet-4-5", completion["model"]!.GetValue<string>());
        var choice = completion["choices"]![0]!;
        Assert.Equal("assistant", choice["message"]!["role"]!.GetValue<string>());
        Assert.Equal("echo: hello there", choice["message"]!["content"]!.GetValue<string>());
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
        Assert.Equal("end_turn", choice["native_finish_reason"]!.GetValue<string>());
        var usage = completion["usage"]!;
        Assert.Equal(3, usage["completion_tokens"]!.GetValue<long>());
        var prompt = usage["prompt_tokens"]!.GetValue<long>();
        Assert.True(prompt > 0);
        Assert.Equal(prompt + 3, usage["total_tokens"]!.GetValue<long>());
        Assert.Equal(0, usage["cache_read_input_tokens"]!.GetValue<long>());
    }

    [Fact]
    public async Task System_developer_and_multi_turn_with_tool_results_become_anthropic_turns()
    {
        await using var h = await StartAsync();
        var body = Chat(
            Parse("""{"role":"system","content":"You are terse."}"""),
            Parse("""{"role":"developer","content":[{"type":"text","text":"Use metric units."}]}"""),
            User("Weather in Paris and Rome?"),
            Parse("""
                {"role":"assistant","content":"Checking.","tool_calls":[
                {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]}
                """),
            Parse("""{"role":"tool","tool_call_id":"call_1","content":"18C"}"""),
            Parse("""{"role":"tool","tool_call_id":"call_2","content":"24C"}"""),
            User("Which is warmer?"));
        body["tools"] = Parse("""[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]""");
        var completion = await h.ChatJsonAsync(body);

        var sent = h.Sim.LastBody;
        JsonAssert.Equal("""[{"type":"text","text":"You are terse."},{"type":"text","text":"Use metric units."}]""", sent["system"]);
        JsonAssert.Equal("""
            [{"role":"user","content":[{"type":"text","text":"Weather in Paris and Rome?"}]},
             {"role":"assistant","content":[{"type":"text","text":"Checking."},
                {"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},
                {"type":"tool_use","id":"call_2","name":"get_weather","input":{"city":"Rome"}}]},
             {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"18C"},
                {"type":"tool_result","tool_use_id":"call_2","content":"24C"},
                {"type":"text","text":"Which is warmer?"}]}]
            """, sent["messages"]);
        JsonAssert.Equal("""[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]""", sent["tools"]);
        Assert.Equal("echo: result 18C result 24C Which is warmer?", completion["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task Streamed_tool_call_arrives_as_valid_openai_chunks_with_arguments_in_pieces()
    {
        await using var h = await StartAsync();
        const string Arguments = """{"city":"Paris","unit":"celsius","days":3}""";
        h.Sim.Enqueue(new AnthropicReply { Text = "", ToolCalls = [("get_weather", Arguments)] });
        var body = Chat(User("weather?"));
        body["stream"] = true;
        body["stream_options"] = Parse("""{"include_usage":true}""");
        body["tools"] = Parse("""[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""");
        body["tool_choice"] = "required";
        body["parallel_tool_calls"] = false;
        var (chunks, done) = await h.StreamAsync(body);

        var sent = h.Sim.LastBody;
        Assert.True(sent["stream"]!.GetValue<bool>());
        JsonAssert.Equal("""{"type":"any","disable_parallel_tool_use":true}""", sent["tool_choice"]);
        Assert.False(sent.ContainsKey("stream_options"));

        Assert.True(done);
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c["object"]!.GetValue<string>()));
        var toolDeltas = chunks.Where(c => c["choices"] is JsonArray { Count: > 0 } a && a[0]!["delta"]!["tool_calls"] is not null)
            .Select(c => c["choices"]![0]!["delta"]!["tool_calls"]![0]!).ToList();
        var head = toolDeltas[0];
        Assert.Equal(0, head["index"]!.GetValue<int>());
        Assert.Equal("toolu_sim_01_get_weather", head["id"]!.GetValue<string>());
        Assert.Equal("function", head["type"]!.GetValue<string>());
        Assert.Equal("get_weather", head["function"]!["name"]!.GetValue<string>());
        var fragments = toolDeltas.Skip(1).Select(d => d["function"]!["arguments"]!.GetValue<string>()).ToList();
        Assert.True(fragments.Count >= 3, $"expected the arguments in several pieces, got {fragments.Count}");
        Assert.All(toolDeltas.Skip(1), d => Assert.Null(d["id"]));
        Assert.Equal(Arguments, string.Concat(fragments));

        var finish = chunks.Single(c => c["choices"] is JsonArray { Count: > 0 } a && a[0]!["finish_reason"] is not null);
        Assert.Equal("tool_calls", finish["choices"]![0]!["finish_reason"]!.GetValue<string>());
        var last = chunks[^1];
        Assert.Empty(last["choices"]!.AsArray());
        Assert.Equal(Usage(Arguments), last["usage"]!["completion_tokens"]!.GetValue<long>());

        // Without include_usage, no usage chunk reaches the client.
        h.Sim.Enqueue(new AnthropicReply { Text = "", ToolCalls = [("get_weather", Arguments)] });
        body.Remove("stream_options");
        var (plain, _) = await h.StreamAsync(body);
        Assert.DoesNotContain(plain, c => c["usage"] is not null);
        Assert.All(plain, c => Assert.NotEmpty(c["choices"]!.AsArray()));

        static long Usage(string json) => (json.Length + 3) / 4;
    }

    [Fact]
    public async Task Images_by_url_and_base64_data_uri_become_image_sources()
    {
        await using var h = await StartAsync();
        const string png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYGAAAAAEAAGjChXjAAAAAElFTkSuQmCC";
        var body = Chat(Parse($$$"""
            {"role":"user","content":[{"type":"text","text":"Compare"},
              {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg","detail":"high"}},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,{{{png}}}"}},
              {"type":"file","file":{"filename":"doc.pdf","file_data":"data:application/pdf;base64,JVBERi0xLjQK"}}]}
            """));
        var completion = await h.ChatJsonAsync(body);

        JsonAssert.Equal($$$"""
            [{"type":"text","text":"Compare"},
             {"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},
             {"type":"image","source":{"type":"base64","media_type":"image/png","data":"{{{png}}}"}},
             {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0xLjQK"},"title":"doc.pdf"}]
            """, h.Sim.LastBody["messages"]![0]!["content"]);
        Assert.Equal("echo: Compare [image url] [image base64] [document base64]", completion["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task Json_schema_response_format_uses_a_forced_tool_and_returns_json_content()
    {
        await using var h = await StartAsync();
        const string Answer = """{"city":"Paris","population":2100000}""";
        var body = Chat(User("Biggest French city?"));
        body["response_format"] = Parse("""{"type":"json_schema","json_schema":{"name":"city","schema":{"type":"object","properties":{"city":{"type":"string"},"population":{"type":"integer"}},"required":["city","population"]}}}""");
        h.Sim.Enqueue(new AnthropicReply { Text = Answer });
        var completion = await h.ChatJsonAsync(body);

        var sent = h.Sim.LastBody;
        JsonAssert.Equal("""{"type":"tool","name":"json_response"}""", sent["tool_choice"]);
        var tool = Assert.Single(sent["tools"]!.AsArray())!;
        Assert.Equal("json_response", tool["name"]!.GetValue<string>());
        JsonAssert.Equal("""{"type":"object","properties":{"city":{"type":"string"},"population":{"type":"integer"}},"required":["city","population"]}""", tool["input_schema"]);

        var choice = completion["choices"]![0]!;
        JsonAssert.Equal(Answer, JsonNode.Parse(choice["message"]!["content"]!.GetValue<string>()));
        Assert.Null(choice["message"]!["tool_calls"]);
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
        Assert.Equal("tool_use", choice["native_finish_reason"]!.GetValue<string>());

        // Streamed: the tool input arrives as content fragments.
        h.Sim.Enqueue(new AnthropicReply { Text = Answer });
        body["stream"] = true;
        var (chunks, _) = await h.StreamAsync(body);
        var content = string.Concat(chunks.Select(c => c["choices"] is JsonArray { Count: > 0 } a ? a[0]!["delta"]!["content"]?.GetValue<string>() : null));
        JsonAssert.Equal(Answer, JsonNode.Parse(content));
        Assert.DoesNotContain(chunks, c => c["choices"] is JsonArray { Count: > 0 } a && a[0]!["delta"]!["tool_calls"] is not null);
        Assert.Equal("stop", chunks.Single(c => c["choices"] is JsonArray { Count: > 0 } a && a[0]!["finish_reason"] is not null)["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Json_object_response_format_adds_a_system_instruction()
    {
        await using var h = await StartAsync();
        var body = Chat(Parse("""{"role":"system","content":"Be brief."}"""), User("list"));
        body["response_format"] = Parse("""{"type":"json_object"}""");
        await h.ChatJsonAsync(body);
        JsonAssert.Equal("""[{"type":"text","text":"Be brief."},{"type":"text","text":"Respond only with a single valid JSON object, with no text before or after it."}]""", h.Sim.LastBody["system"]);
        Assert.Null(h.Sim.LastBody["tools"]);
    }

    [Fact]
    public async Task Stop_sequences_are_sent_and_the_answer_is_cut_there()
    {
        await using var h = await StartAsync();
        h.Sim.Enqueue(new AnthropicReply { Text = "one two STOP three" });
        var body = Chat(User("count"));
        body["stop"] = new JsonArray("STOP", "END");
        var completion = await h.ChatJsonAsync(body);
        JsonAssert.Equal("""["STOP","END"]""", h.Sim.LastBody["stop_sequences"]);
        var choice = completion["choices"]![0]!;
        Assert.Equal("one two ", choice["message"]!["content"]!.GetValue<string>());
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
        Assert.Equal("stop_sequence", choice["native_finish_reason"]!.GetValue<string>());

        // A single string works too, and max_tokens cuts with finish_reason length.
        h.Sim.Enqueue(new AnthropicReply { Text = "a b c d e" });
        body["stop"] = "zzz";
        body["max_completion_tokens"] = 2;
        var cut = await h.ChatJsonAsync(body);
        JsonAssert.Equal("""["zzz"]""", h.Sim.LastBody["stop_sequences"]);
        Assert.Equal(2, h.Sim.LastBody["max_tokens"]!.GetValue<int>());
        Assert.Equal("a b", cut["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("length", cut["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Extended_thinking_with_signature_round_trips_in_a_multi_turn_chat()
    {
        await using var h = await StartAsync();
        h.Sim.Enqueue(new AnthropicReply { Thinking = "Two plus two is four.", Signature = "sig_abc123", Text = "4" });
        var body = Chat(User("2+2?"));
        body["thinking"] = Parse("""{"type":"enabled","budget_tokens":2048}""");
        body["max_tokens"] = 6000;
        body["temperature"] = 0.3;
        var first = await h.ChatJsonAsync(body);

        JsonAssert.Equal("""{"type":"enabled","budget_tokens":2048}""", h.Sim.LastBody["thinking"]);
        Assert.Null(h.Sim.LastBody["temperature"]);
        var message = first["choices"]![0]!["message"]!;
        Assert.Equal("4", message["content"]!.GetValue<string>());
        Assert.Equal("Two plus two is four.", message["reasoning_content"]!.GetValue<string>());
        JsonAssert.Equal("""[{"type":"thinking","thinking":"Two plus two is four.","signature":"sig_abc123"}]""", message["thinking_blocks"]);

        // The assistant turn goes back with its thinking block first; the simulator rejects unknown signatures.
        var second = Chat(User("2+2?"), message.DeepClone(), User("and times 3?"));
        second["thinking"] = body["thinking"]!.DeepClone();
        second["max_tokens"] = 6000;
        var reply = await h.ChatJsonAsync(second);
        JsonAssert.Equal("""
            {"role":"assistant","content":[{"type":"thinking","thinking":"Two plus two is four.","signature":"sig_abc123"},{"type":"text","text":"4"}]}
            """, h.Sim.LastBody["messages"]![1]);
        Assert.Equal("echo: and times 3?", reply["choices"]![0]!["message"]!["content"]!.GetValue<string>());

        // A forged signature is refused upstream, and the client sees that 400.
        var forged = (JsonObject)second.DeepClone();
        forged["messages"]![1]!["thinking_blocks"]![0]!["signature"] = "sig_forged";
        var refused = await h.ChatAsync(forged);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Invalid `signature`", (await refused.JsonAsync()).GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Streamed_thinking_arrives_as_reasoning_content_and_a_signature_block()
    {
        await using var h = await StartAsync();
        h.Sim.Enqueue(new AnthropicReply { Thinking = "Let me see now.", Signature = "sig_stream", Text = "Done." });
        var body = Chat(User("think"));
        body["reasoning_effort"] = "low";
        body["stream"] = true;
        var (chunks, _) = await h.StreamAsync(body);

        JsonAssert.Equal("""{"type":"enabled","budget_tokens":1024}""", h.Sim.LastBody["thinking"]);
        Assert.Equal(4096, h.Sim.LastBody["max_tokens"]!.GetValue<int>());
        var deltas = chunks.Where(c => c["choices"] is JsonArray { Count: > 0 }).Select(c => c["choices"]![0]!["delta"]!).ToList();
        var reasoning = deltas.Where(d => d["reasoning_content"] is not null).Select(d => d["reasoning_content"]!.GetValue<string>()).ToList();
        Assert.True(reasoning.Count >= 2);
        Assert.Equal("Let me see now.", string.Concat(reasoning));
        var signature = Assert.Single(deltas, d => d["thinking_blocks"] is not null);
        JsonAssert.Equal("""[{"type":"thinking","signature":"sig_stream"}]""", signature["thinking_blocks"]);
        Assert.Equal("Done.", string.Concat(deltas.Select(d => d["content"]?.GetValue<string>())));
    }

    [Fact]
    public async Task Provider_errors_keep_their_status_in_the_openai_error_shape()
    {
        await using var h = await StartAsync();
        foreach (var (status, type) in new[] { (429, "rate_limit_error"), (529, "overloaded_error"), (500, "api_error") })
        {
            h.Sim.Enqueue(AnthropicReply.Error(status, type, $"simulated {type}"));
            var response = await h.ChatAsync(Chat(User("hi")));
            Assert.Equal(status, (int)response.StatusCode);
            var json = await response.JsonAsync();
            var error = json.GetProperty("error");
            Assert.Equal($"anthropic error: simulated {type}", error.GetProperty("message").GetString());
            Assert.Equal(type, error.GetProperty("type").GetString());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, error.GetProperty("param").ValueKind);
            Assert.Equal(System.Text.Json.JsonValueKind.Null, error.GetProperty("code").ValueKind);
            Assert.Equal("anthropic", json.GetProperty("provider").GetString());
        }

        // The simulator's own validation errors come through the same way.
        var bad = Chat(User("hi"));
        bad["stop"] = new JsonArray(1, 2);
        var invalid = await h.ChatAsync(bad);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var invalidError = (await invalid.JsonAsync()).GetProperty("error");
        Assert.Equal("invalid_request_error", invalidError.GetProperty("type").GetString());
        Assert.Equal("anthropic error: stop_sequences: Input should be a valid list of strings", invalidError.GetProperty("message").GetString());

        // A wrong key is the provider's 401.
        var unauthorized = await h.Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", Chat(User("hi")).ToJsonString(),
            ("x-portkey-provider", "anthropic"), ("Authorization", "Bearer wrong")));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal("authentication_error", (await unauthorized.JsonAsync()).GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Tool_call_arguments_that_are_not_json_are_a_400_naming_the_call_and_nothing_goes_upstream()
    {
        await using var h = await StartAsync();
        var body = Chat(User("x"), Parse("""{"role":"assistant","tool_calls":[{"id":"call_9","type":"function","function":{"name":"lookup","arguments":"{not json"}}]}"""),
            Parse("""{"role":"tool","tool_call_id":"call_9","content":"r"}"""));
        var response = await h.ChatAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var json = await response.JsonAsync();
        Assert.Equal("failure", json.GetProperty("status").GetString());
        var message = json.GetProperty("message").GetString();
        Assert.StartsWith("messages[1].tool_calls[0] ('lookup')", message);
        Assert.Contains("'lookup'", message);
        Assert.Contains("not valid JSON", message);
        Assert.Empty(h.Sim.Requests);
    }

    [Fact]
    public async Task A_mid_stream_error_event_reaches_the_client_as_an_error()
    {
        await using var h = await StartAsync();
        h.Sim.Enqueue(new AnthropicReply { Text = "one two three four", StreamErrorAfterEvents = 4, ErrorType = "overloaded_error", ErrorMessage = "Overloaded" });
        var body = Chat(User("x"));
        body["stream"] = true;
        var response = await h.ChatAsync(body, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = new System.Text.StringBuilder();
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                text.Append(System.Text.Encoding.UTF8.GetString(buffer, 0, n));
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            // The gateway breaks the connection after the error event so the client knows the answer is incomplete.
        }
        var (chunks, done) = ParseSse(text.ToString());
        Assert.False(done);
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        var error = chunks[^1]["error"]!;
        Assert.Contains("overloaded_error", error["message"]!.GetValue<string>());
        Assert.Contains("Overloaded", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Streamed_and_non_streamed_responses_report_identical_usage()
    {
        await using var h = await StartAsync();
        var body = Chat(Parse("""{"role":"system","content":"System words here."}"""), User("a question of some length"));
        h.Sim.Enqueue(new AnthropicReply { Text = "an answer with six words total" });
        var plain = await h.ChatJsonAsync(body);

        var streamed = (JsonObject)body.DeepClone();
        streamed["stream"] = true;
        streamed["stream_options"] = Parse("""{"include_usage":true}""");
        h.Sim.Enqueue(new AnthropicReply { Text = "an answer with six words total" });
        var (chunks, _) = await h.StreamAsync(streamed);

        var usage = chunks[^1]["usage"]!;
        JsonAssert.Equal(plain["usage"]!.ToJsonString(), usage);
        Assert.Equal(6, usage["completion_tokens"]!.GetValue<long>());
        Assert.Equal(plain["id"]!.GetValue<string>().Length, chunks[0]["id"]!.GetValue<string>().Length);
    }

    [Fact]
    public async Task Cache_control_on_a_system_block_passes_through_and_cache_tokens_appear_in_usage()
    {
        await using var h = await StartAsync();
        var body = Chat(
            Parse("""{"role":"system","content":[{"type":"text","text":"A long shared preamble that is worth caching across calls.","cache_control":{"type":"ephemeral"}}]}"""),
            User("first question"));
        var first = await h.ChatJsonAsync(body);
        JsonAssert.Equal("""[{"type":"text","text":"A long shared preamble that is worth caching across calls.","cache_control":{"type":"ephemeral"}}]""", h.Sim.LastBody["system"]);
        var written = first["usage"]!["cache_creation_input_tokens"]!.GetValue<long>();
        Assert.True(written > 0);
        Assert.Equal(0, first["usage"]!["cache_read_input_tokens"]!.GetValue<long>());
        Assert.Equal(0, first["usage"]!["prompt_tokens_details"]!["cached_tokens"]!.GetValue<long>());

        var second = await h.ChatJsonAsync(body);
        var usage = second["usage"]!;
        Assert.Equal(written, usage["cache_read_input_tokens"]!.GetValue<long>());
        Assert.Equal(written, usage["prompt_tokens_details"]!["cached_tokens"]!.GetValue<long>());
        Assert.Equal(0, usage["cache_creation_input_tokens"]!.GetValue<long>());
        // prompt_tokens counts every input token, cached or not.
        Assert.Equal(first["usage"]!["prompt_tokens"]!.GetValue<long>(), usage["prompt_tokens"]!.GetValue<long>());
        Assert.True(usage["prompt_tokens"]!.GetValue<long>() > written);
    }

    [Fact]
    public async Task Refusal_maps_to_content_filter()
    {
        await using var h = await StartAsync();
        h.Sim.Enqueue(new AnthropicReply { Text = "I can't help with that.", StopReason = "refusal" });
        var completion = await h.ChatJsonAsync(Chat(User("bad")));
        Assert.Equal("content_filter", completion["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal("refusal", completion["choices"]![0]!["native_finish_reason"]!.GetValue<string>());
    }
}
