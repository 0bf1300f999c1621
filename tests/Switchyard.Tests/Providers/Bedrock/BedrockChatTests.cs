using System.Net;
using System.Text.Json;
using Switchyard.Simulators.Bedrock;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Providers.Bedrock;

/// <summary>OpenAI chat in, Bedrock Converse out, through the real gateway and the Bedrock simulator.</summary>
public sealed class BedrockChatTests
{
    private const string M = BedrockHarness.Model;

    [Fact]
    public async Task Chat_is_translated_to_a_signed_converse_call_and_back()
    {
        await using var h = await BedrockHarness.StartAsync();
        var response = await h.ChatAsync(new { model = M, messages = new[] { new { role = "user", content = "hello there" } }, max_tokens = 50, temperature = 0.25, top_p = 0.5 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.JsonAsync();
        Assert.Equal("chat.completion", json.GetProperty("object").GetString());
        Assert.Equal(M, json.GetProperty("model").GetString());
        var choice = json.GetProperty("choices")[0];
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("echo: hello there", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("end_turn", choice.GetProperty("native_finish_reason").GetString());
        var usage = json.GetProperty("usage");
        Assert.Equal(2, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(3, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("total_tokens").GetInt32());

        var seen = Assert.Single(h.Sim.Requests);
        Assert.Equal("POST", seen.Method);
        Assert.Equal(BedrockHarness.ConversePath(), seen.Path);
        Assert.StartsWith($"AWS4-HMAC-SHA256 Credential={BedrockHarness.KeyId}/", seen.Headers["Authorization"]);
        Assert.Contains($"/{BedrockHarness.Region}/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=", seen.Headers["Authorization"]);
        Assert.Matches("^[0-9]{8}T[0-9]{6}Z$", seen.Headers["x-amz-date"]);
        Assert.False(seen.Headers.ContainsKey("x-amz-security-token"));
        Assert.DoesNotContain(seen.Headers.Keys, k => k.StartsWith("x-portkey-", StringComparison.OrdinalIgnoreCase));
        var up = h.Upstream();
        var message = Assert.Single(up.GetProperty("messages").EnumerateArray());
        Assert.Equal("user", message.GetProperty("role").GetString());
        Assert.Equal("hello there", Assert.Single(message.GetProperty("content").EnumerateArray()).GetProperty("text").GetString());
        var inference = up.GetProperty("inferenceConfig");
        Assert.Equal(50, inference.GetProperty("maxTokens").GetInt32());
        Assert.Equal(0.25, inference.GetProperty("temperature").GetDouble());
        Assert.Equal(0.5, inference.GetProperty("topP").GetDouble());
        Assert.False(up.TryGetProperty("model", out _));
        Assert.False(up.TryGetProperty("system", out _));
    }

    [Fact]
    public async Task System_and_developer_become_system_blocks_and_turns_alternate()
    {
        await using var h = await BedrockHarness.StartAsync();
        var response = await h.ChatAsync(new
        {
            model = M,
            messages = new object[]
            {
                new { role = "system", content = "You are terse." },
                new { role = "developer", content = "Answer in French." },
                new { role = "user", content = "first question" },
                new { role = "assistant", content = "first answer" },
                new { role = "user", content = "second" },
                new { role = "user", content = new object[] { new { type = "text", text = "and third" } } },
            },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("echo: and third", (await response.JsonAsync()).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());

        var up = h.Upstream();
        var system = up.GetProperty("system");
        Assert.Equal(2, system.GetArrayLength());
        Assert.Equal("You are terse.", system[0].GetProperty("text").GetString());
        Assert.Equal("Answer in French.", system[1].GetProperty("text").GetString());
        var messages = up.GetProperty("messages");
        Assert.Equal(3, messages.GetArrayLength());
        Assert.Equal(["user", "assistant", "user"], messages.EnumerateArray().Select(m => m.GetProperty("role").GetString()!).ToArray());
        Assert.Equal("first answer", messages[1].GetProperty("content")[0].GetProperty("text").GetString());
        // Consecutive user messages are merged into one turn.
        Assert.Equal(["second", "and third"], messages[2].GetProperty("content").EnumerateArray().Select(b => b.GetProperty("text").GetString()!).ToArray());
    }

    private static object WeatherTool => new
    {
        type = "function",
        function = new
        {
            name = "get_weather",
            description = "Weather for a city",
            parameters = new { type = "object", properties = new { city = new { type = "string" }, unit = new { type = "string" } }, required = new[] { "city" } },
        },
    };

    [Fact]
    public async Task Streamed_tool_call_arrives_in_pieces_and_is_reassembled_in_valid_openai_chunks()
    {
        await using var h = await BedrockHarness.StartAsync();
        const string args = "{\"city\":\"Paris\",\"unit\":\"celsius\"}";
        h.Sim.Next(new BedrockReply { ToolCall = ("get_weather", args) });
        var response = await h.ChatAsync(new
        {
            model = M,
            stream = true,
            stream_options = new { include_usage = true },
            messages = new[] { new { role = "user", content = "weather in Paris?" } },
            tools = new[] { WeatherTool },
            tool_choice = "auto",
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("data: [DONE]\n\n", text);
        var chunks = BedrockHarness.Chunks(text);

        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        var toolDeltas = chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0
            && c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("tool_calls", out _))
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0]).ToList();
        var head = toolDeltas[0];
        Assert.Equal(0, head.GetProperty("index").GetInt32());
        Assert.StartsWith("tooluse_", head.GetProperty("id").GetString());
        Assert.Equal("function", head.GetProperty("type").GetString());
        Assert.Equal("get_weather", head.GetProperty("function").GetProperty("name").GetString());
        var fragments = toolDeltas.Skip(1).Select(d =>
        {
            Assert.Equal(0, d.GetProperty("index").GetInt32());
            Assert.False(d.TryGetProperty("id", out _));
            return d.GetProperty("function").GetProperty("arguments").GetString()!;
        }).ToList();
        Assert.True(fragments.Count >= 3, $"expected the arguments in several pieces, got {fragments.Count}");
        Assert.Equal(args, string.Concat(fragments));

        var finish = chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0
            && c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind == JsonValueKind.String).ToList();
        Assert.Equal("tool_calls", Assert.Single(finish).GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var last = chunks[^1];
        Assert.Equal(0, last.GetProperty("choices").GetArrayLength());
        Assert.Equal(3, last.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        var seen = Assert.Single(h.Sim.Requests);
        Assert.Equal(BedrockHarness.ConversePath("converse-stream"), seen.Path);
        var tool = h.Upstream().GetProperty("toolConfig");
        var spec = Assert.Single(tool.GetProperty("tools").EnumerateArray()).GetProperty("toolSpec");
        Assert.Equal("get_weather", spec.GetProperty("name").GetString());
        Assert.Equal("Weather for a city", spec.GetProperty("description").GetString());
        Assert.Equal("string", spec.GetProperty("inputSchema").GetProperty("json").GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
        Assert.True(tool.GetProperty("toolChoice").TryGetProperty("auto", out _));
        Assert.False(h.Upstream().TryGetProperty("stream", out _));
    }

    [Fact]
    public async Task Stream_without_include_usage_has_no_usage_chunk()
    {
        await using var h = await BedrockHarness.StartAsync();
        var response = await h.ChatAsync(new { model = M, stream = true, messages = new[] { new { role = "user", content = "one two three four" } } });
        var chunks = BedrockHarness.Chunks(await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain(chunks, c => c.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object);
        Assert.Equal("echo: one two three four", string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : "")));
        Assert.Equal("stop", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Tool_results_go_back_as_a_user_turn_answering_the_tool_use_ids()
    {
        await using var h = await BedrockHarness.StartAsync();
        var response = await h.ChatAsync(new
        {
            model = M,
            tools = new[] { WeatherTool },
            tool_choice = "required",
            messages = new object[]
            {
                new { role = "user", content = "weather in Paris and Rome?" },
                new
                {
                    role = "assistant", content = (string?)null,
                    tool_calls = new[]
                    {
                        new { id = "call_1", type = "function", function = new { name = "get_weather", arguments = "{\"city\":\"Paris\"}" } },
                        new { id = "call_2", type = "function", function = new { name = "get_weather", arguments = "{\"city\":\"Rome\"}" } },
                    },
                },
                new { role = "tool", tool_call_id = "call_1", content = "18C" },
                new { role = "tool", tool_call_id = "call_2", content = "24C" },
            },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var messages = h.Upstream().GetProperty("messages");
        Assert.Equal(3, messages.GetArrayLength());
        var uses = messages[1].GetProperty("content");
        Assert.Equal("call_1", uses[0].GetProperty("toolUse").GetProperty("toolUseId").GetString());
        Assert.Equal("Paris", uses[0].GetProperty("toolUse").GetProperty("input").GetProperty("city").GetString());
        Assert.Equal("call_2", uses[1].GetProperty("toolUse").GetProperty("toolUseId").GetString());
        Assert.Equal("user", messages[2].GetProperty("role").GetString());
        var results = messages[2].GetProperty("content");
        Assert.Equal(2, results.GetArrayLength());
        Assert.Equal("call_1", results[0].GetProperty("toolResult").GetProperty("toolUseId").GetString());
        Assert.Equal("18C", results[0].GetProperty("toolResult").GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("call_2", results[1].GetProperty("toolResult").GetProperty("toolUseId").GetString());
        Assert.True(h.Upstream().GetProperty("toolConfig").GetProperty("toolChoice").TryGetProperty("any", out _));
    }

    [Fact]
    public async Task Base64_image_becomes_an_image_block_and_an_image_url_is_refused()
    {
        await using var h = await BedrockHarness.StartAsync();
        var png = Convert.ToBase64String([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4]);
        var response = await h.ChatAsync(new
        {
            model = M,
            messages = new[]
            {
                new { role = "user", content = new object[] { new { type = "text", text = "what is this" }, new { type = "image_url", image_url = new { url = "data:image/png;base64," + png } } } },
            },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(103, (await response.JsonAsync()).GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var content = h.Upstream().GetProperty("messages")[0].GetProperty("content");
        Assert.Equal("what is this", content[0].GetProperty("text").GetString());
        var image = content[1].GetProperty("image");
        Assert.Equal("png", image.GetProperty("format").GetString());
        Assert.Equal(png, image.GetProperty("source").GetProperty("bytes").GetString());

        var url = await h.ChatAsync(new
        {
            model = M,
            messages = new[] { new { role = "user", content = new object[] { new { type = "image_url", image_url = new { url = "https://example.com/cat.png" } } } } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, url.StatusCode);
        Assert.Contains("inline images", await url.Content.ReadAsStringAsync());
        Assert.Single(h.Sim.Requests);
    }

    [Fact]
    public async Task Json_schema_response_format_is_a_forced_tool_whose_input_is_the_answer()
    {
        await using var h = await BedrockHarness.StartAsync();
        h.Sim.Next(new BedrockReply { ToolCall = ("json_response", "{\"answer\":42,\"unit\":\"none\"}") });
        h.Sim.Next(new BedrockReply { ToolCall = ("json_response", "{\"answer\":42,\"unit\":\"none\"}") });
        var body = new
        {
            model = M,
            messages = new[] { new { role = "user", content = "the answer?" } },
            response_format = new
            {
                type = "json_schema",
                json_schema = new { name = "answer", schema = new { type = "object", properties = new { answer = new { type = "integer" } }, required = new[] { "answer" } } },
            },
        };
        var response = await h.ChatAsync(body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var choice = (await response.JsonAsync()).GetProperty("choices")[0];
        Assert.Equal("{\"answer\":42,\"unit\":\"none\"}", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());

        var tool = h.Upstream().GetProperty("toolConfig");
        var spec = Assert.Single(tool.GetProperty("tools").EnumerateArray()).GetProperty("toolSpec");
        Assert.Equal("json_response", spec.GetProperty("name").GetString());
        Assert.Equal("integer", spec.GetProperty("inputSchema").GetProperty("json").GetProperty("properties").GetProperty("answer").GetProperty("type").GetString());
        Assert.Equal("json_response", tool.GetProperty("toolChoice").GetProperty("tool").GetProperty("name").GetString());

        // Streamed, the tool input arrives as content fragments.
        var streamed = await h.ChatAsync(JsonSerializer.Serialize(body).Replace("\"model\"", "\"stream\":true,\"model\""));
        var chunks = BedrockHarness.Chunks(await streamed.Content.ReadAsStringAsync());
        Assert.Equal("{\"answer\":42,\"unit\":\"none\"}", string.Concat(chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0)
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : "")));
        Assert.DoesNotContain(chunks, c => c.GetProperty("choices").GetArrayLength() > 0 && c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("tool_calls", out _));
        Assert.Equal("stop", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Stop_sequences_go_to_inference_config_and_the_stop_maps_to_stop()
    {
        await using var h = await BedrockHarness.StartAsync();
        h.Sim.Next(new BedrockReply { Text = "hello world and more" });
        var response = await h.ChatAsync(new { model = M, messages = new[] { new { role = "user", content = "say it" } }, stop = new[] { "world", "END" } });
        var choice = (await response.JsonAsync()).GetProperty("choices")[0];
        Assert.Equal("hello ", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("stop_sequence", choice.GetProperty("native_finish_reason").GetString());
        Assert.Equal(["world", "END"], h.Upstream().GetProperty("inferenceConfig").GetProperty("stopSequences").EnumerateArray().Select(s => s.GetString()!).ToArray());

        // A single string stop becomes a one-element list; max_tokens cut-offs map to length.
        var cut = await h.ChatAsync(new { model = M, messages = new[] { new { role = "user", content = "a b c d e f" } }, stop = "zzz", max_completion_tokens = 2 });
        var cutChoice = (await cut.JsonAsync()).GetProperty("choices")[0];
        Assert.Equal("length", cutChoice.GetProperty("finish_reason").GetString());
        Assert.Equal(["zzz"], h.Upstream().GetProperty("inferenceConfig").GetProperty("stopSequences").EnumerateArray().Select(s => s.GetString()!).ToArray());
        Assert.Equal(2, h.Upstream().GetProperty("inferenceConfig").GetProperty("maxTokens").GetInt32());
    }

    [Fact]
    public async Task Thinking_goes_to_additional_fields_and_reasoning_comes_back_with_its_signature()
    {
        await using var h = await BedrockHarness.StartAsync();
        h.Sim.Next(new BedrockReply { Reasoning = ("First I consider the question carefully.", "sig-abc"), Text = "Done." });
        h.Sim.Next(new BedrockReply { Reasoning = ("First I consider the question carefully.", "sig-abc"), Text = "Done." });
        var body = new { model = M, messages = new[] { new { role = "user", content = "think" } }, max_tokens = 2000, thinking = new { type = "enabled", budget_tokens = 1024 }, top_k = 5 };
        var response = await h.ChatAsync(body);
        var message = (await response.JsonAsync()).GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("Done.", message.GetProperty("content").GetString());
        Assert.Equal("First I consider the question carefully.", message.GetProperty("reasoning_content").GetString());
        var block = Assert.Single(message.GetProperty("thinking_blocks").EnumerateArray());
        Assert.Equal("thinking", block.GetProperty("type").GetString());
        Assert.Equal("sig-abc", block.GetProperty("signature").GetString());
        var extra = h.Upstream().GetProperty("additionalModelRequestFields");
        Assert.Equal("enabled", extra.GetProperty("thinking").GetProperty("type").GetString());
        Assert.Equal(1024, extra.GetProperty("thinking").GetProperty("budget_tokens").GetInt32());
        Assert.Equal(5, extra.GetProperty("top_k").GetInt32());

        var streamed = await h.ChatAsync(JsonSerializer.Serialize(body).Replace("\"model\"", "\"stream\":true,\"model\""));
        var deltas = BedrockHarness.Chunks(await streamed.Content.ReadAsStringAsync())
            .Where(c => c.GetProperty("choices").GetArrayLength() > 0).Select(c => c.GetProperty("choices")[0].GetProperty("delta")).ToList();
        Assert.Equal("First I consider the question carefully.", string.Concat(deltas.Select(d => d.TryGetProperty("reasoning_content", out var r) ? r.GetString() : "")));
        Assert.Contains(deltas, d => d.TryGetProperty("thinking_blocks", out var tb) && tb[0].GetProperty("signature").GetString() == "sig-abc");

        // The signed thinking goes back upstream on the next turn.
        var again = await h.ChatAsync(new
        {
            model = M,
            thinking = new { type = "enabled", budget_tokens = 1024 },
            messages = new object[]
            {
                new { role = "user", content = "think" },
                new { role = "assistant", content = "Done.", thinking_blocks = new[] { new { type = "thinking", thinking = "First I consider.", signature = "sig-abc" } } },
                new { role = "user", content = "more" },
            },
        });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var assistant = h.Upstream().GetProperty("messages")[1].GetProperty("content");
        Assert.Equal("sig-abc", assistant[0].GetProperty("reasoningContent").GetProperty("reasoningText").GetProperty("signature").GetString());
        Assert.Equal("Done.", assistant[1].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Provider_errors_keep_their_status_in_the_openai_error_shape()
    {
        await using var h = await BedrockHarness.StartAsync();
        h.Sim.Next(BedrockReply.Fail(429, "ThrottlingException", "Too many requests, please wait before trying again."));
        var response = await h.ChatAsync(new { model = M, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        var json = await response.JsonAsync();
        var error = json.GetProperty("error");
        Assert.Equal("bedrock error: Too many requests, please wait before trying again.", error.GetProperty("message").GetString());
        Assert.Equal("ThrottlingException", error.GetProperty("type").GetString());
        Assert.Equal("ThrottlingException", error.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal("bedrock", json.GetProperty("provider").GetString());

        // The simulator validates like Bedrock: temperature above 1 is a ValidationException.
        var invalid = await h.ChatAsync(new { model = M, messages = new[] { new { role = "user", content = "hi" } }, temperature = 1.5 });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var invalidError = (await invalid.JsonAsync()).GetProperty("error");
        Assert.Equal("ValidationException", invalidError.GetProperty("type").GetString());
        Assert.Contains("temperature", invalidError.GetProperty("message").GetString());
        Assert.Equal(1.5, h.Upstream().GetProperty("inferenceConfig").GetProperty("temperature").GetDouble());

        h.Sim.Next(BedrockReply.Fail(404, "ResourceNotFoundException", "Could not resolve the foundation model from the provided model identifier."));
        var missing = await h.ChatAsync(new { model = M, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("ResourceNotFoundException", (await missing.JsonAsync()).GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Streamed_and_non_streamed_answers_report_the_same_usage()
    {
        await using var h = await BedrockHarness.StartAsync();
        var plain = await h.ChatAsync(new { model = M, messages = new[] { new { role = "user", content = "count these five words" } } });
        var usage = (await plain.JsonAsync()).GetProperty("usage");
        var streamed = await h.ChatAsync(new { model = M, stream = true, stream_options = new { include_usage = true }, messages = new[] { new { role = "user", content = "count these five words" } } });
        var streamUsage = BedrockHarness.Chunks(await streamed.Content.ReadAsStringAsync())[^1].GetProperty("usage");
        Assert.Equal(4, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("completion_tokens").GetInt32());
        foreach (var name in new[] { "prompt_tokens", "completion_tokens", "total_tokens" })
        {
            Assert.Equal(usage.GetProperty(name).GetInt32(), streamUsage.GetProperty(name).GetInt32());
        }
        Assert.Equal(usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32(), streamUsage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
    }

    [Fact]
    public async Task Cache_control_becomes_a_cache_point_and_cache_tokens_are_counted_in_the_prompt()
    {
        await using var h = await BedrockHarness.StartAsync();
        h.Sim.Next(new BedrockReply { CacheHit = true });
        var response = await h.ChatAsync(new
        {
            model = M,
            messages = new object[]
            {
                new { role = "system", content = new object[] { new { type = "text", text = "a long shared system prompt of nine words here", cache_control = new { type = "ephemeral" } } } },
                new { role = "user", content = "question now" },
            },
        });
        var usage = (await response.JsonAsync()).GetProperty("usage");
        var system = h.Upstream().GetProperty("system");
        Assert.Equal(2, system.GetArrayLength());
        Assert.Equal("default", system[1].GetProperty("cachePoint").GetProperty("type").GetString());
        // 9 words cached (read) + 2 uncached.
        Assert.Equal(11, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(9, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(9, usage.GetProperty("cache_read_input_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("cache_creation_input_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Guardrail_intervention_maps_to_content_filter()
    {
        await using var h = await BedrockHarness.StartAsync();
        h.Sim.Next(new BedrockReply { Text = "Sorry, the model cannot answer this.", StopReason = "guardrail_intervened" });
        var choice = (await (await h.ChatAsync(new { model = M, messages = new[] { new { role = "user", content = "bad" } } })).JsonAsync()).GetProperty("choices")[0];
        Assert.Equal("content_filter", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("guardrail_intervened", choice.GetProperty("native_finish_reason").GetString());
    }

    [Fact]
    public async Task Mid_stream_exception_reaches_the_client_as_an_error_and_the_stream_does_not_end_cleanly()
    {
        await using var h = await BedrockHarness.StartAsync();
        h.Sim.Next(new BedrockReply { Text = "one two three four five six", StreamException = (2, "throttlingException", "Too many tokens per minute") });
        var (text, failed) = await ReadBrokenStreamAsync(h, new { model = M, stream = true, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.True(failed, "the connection should break rather than end cleanly");
        Assert.DoesNotContain("[DONE]", text);
        Assert.Contains("one two ", text);
        Assert.Contains("throttlingException", text);
        Assert.Contains("Too many tokens per minute", text);
    }

    [Fact]
    public async Task A_corrupted_event_stream_frame_is_detected()
    {
        await using var h = await BedrockHarness.StartAsync();
        h.Sim.Next(new BedrockReply { Text = "one two three four five six", CorruptEvent = 2 });
        var (text, failed) = await ReadBrokenStreamAsync(h, new { model = M, stream = true, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.True(failed);
        Assert.Contains("checksum", text);
        Assert.DoesNotContain("three four", text);
        Assert.DoesNotContain("[DONE]", text);
    }

    private static async Task<(string Text, bool Failed)> ReadBrokenStreamAsync(BedrockHarness h, object body)
    {
        var request = TestGateway.Post("/v1/chat/completions", JsonSerializer.Serialize(body), BedrockHarness.Headers());
        using var response = await h.Gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[4096];
        var text = new System.Text.StringBuilder();
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                text.Append(System.Text.Encoding.UTF8.GetString(buffer, 0, n));
            }
            return (text.ToString(), false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return (text.ToString(), true);
        }
    }
}
