using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Simulators.Google;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Providers.Google;

/// <summary>OpenAI chat through the gateway to Gemini on AI Studio (<c>google</c>) and on Vertex AI (<c>vertex-ai</c>).</summary>
public sealed class GeminiChatTests
{
    public static TheoryData<string> Providers => new() { "google", "vertex-ai" };

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Text_chat_is_translated_both_ways(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = GoogleHarness.Chat("hello there gemini");
        body["temperature"] = 0.4;
        body["top_p"] = 0.9;
        body["top_k"] = 20;
        body["max_tokens"] = 50;
        body["seed"] = 7;
        var json = await h.ChatOkAsync(provider, body);

        var upstream = GoogleHarness.BodyOf(h.Upstream(provider, stream: false));
        Assert.Equal("""[{"role":"user","parts":[{"text":"hello there gemini"}]}]""", upstream["contents"]!.ToJsonString());
        var config = upstream["generationConfig"]!.AsObject();
        Assert.Equal(0.4, config["temperature"]!.GetValue<double>());
        Assert.Equal(0.9, config["topP"]!.GetValue<double>());
        Assert.Equal(20, config["topK"]!.GetValue<int>());
        Assert.Equal(50, config["maxOutputTokens"]!.GetValue<int>());
        Assert.Equal(7, config["seed"]!.GetValue<int>());
        Assert.False(upstream.ContainsKey("model"));
        Assert.False(upstream.ContainsKey("messages"));

        Assert.Equal("chat.completion", json.GetProperty("object").GetString());
        Assert.StartsWith("chatcmpl-sim-", json.GetProperty("id").GetString());
        Assert.Equal(GoogleHarness.Model, json.GetProperty("model").GetString());
        var choice = json.GetProperty("choices")[0];
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("echo: hello there gemini", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("STOP", choice.GetProperty("native_finish_reason").GetString());
        var usage = json.GetProperty("usage");
        Assert.Equal(3, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(4, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(7, usage.GetProperty("total_tokens").GetInt32());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task System_prompt_and_multi_turn_become_system_instruction_and_merged_turns(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = new JsonObject
        {
            ["model"] = GoogleHarness.Model,
            ["messages"] = JsonNode.Parse("""
                [
                  {"role":"system","content":"You are terse."},
                  {"role":"developer","content":[{"type":"text","text":"Answer in French."}]},
                  {"role":"user","content":"first question"},
                  {"role":"assistant","content":"first answer"},
                  {"role":"user","content":"second"},
                  {"role":"user","content":[{"type":"text","text":"question"}]}
                ]
                """),
        };
        var json = await h.ChatOkAsync(provider, body);

        var upstream = GoogleHarness.BodyOf(h.Upstream(provider, stream: false));
        Assert.Equal("""{"parts":[{"text":"You are terse."},{"text":"Answer in French."}]}""", upstream["systemInstruction"]!.ToJsonString());
        Assert.Equal(
            """[{"role":"user","parts":[{"text":"first question"}]},{"role":"model","parts":[{"text":"first answer"}]},{"role":"user","parts":[{"text":"second"},{"text":"question"}]}]""",
            upstream["contents"]!.ToJsonString());
        Assert.Equal("echo: second question", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        // Prompt words: 2 + 2 + 1 + 1 (turns) + 3 + 3 (system) = 12.
        Assert.Equal(12, json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Streamed_tool_call_arrives_whole_with_valid_chunk_sequence(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        h.Sim.Enqueue(GeminiReply.Call("get_weather", """{"city":"Paris","unit":"celsius"}""", signature: "sig-abc"));
        var body = GoogleHarness.Chat("weather in Paris?", stream: true, includeUsage: true);
        body["tools"] = JsonNode.Parse("""
            [{"type":"function","function":{"name":"get_weather","description":"Weather now","strict":true,
              "parameters":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":false,
                "properties":{"city":{"type":"string"},"unit":{"type":["string","null"],"enum":["celsius","fahrenheit"]}},
                "required":["city"]}}}]
            """);
        body["tool_choice"] = "required";
        var chunks = await h.StreamAsync(provider, body);

        var upstream = GoogleHarness.BodyOf(h.Upstream(provider, stream: true));
        Assert.Equal(
            """[{"functionDeclarations":[{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","nullable":true,"enum":["celsius","fahrenheit"]}},"required":["city"]}}]}]""",
            upstream["tools"]!.ToJsonString());
        Assert.Equal("""{"functionCallingConfig":{"mode":"ANY"}}""", upstream["toolConfig"]!.ToJsonString());

        var choiceChunks = chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0).ToList();
        Assert.Equal("assistant", choiceChunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var toolDeltas = choiceChunks.Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Where(d => d.TryGetProperty("tool_calls", out _)).SelectMany(d => d.GetProperty("tool_calls").EnumerateArray()).ToList();
        // Gemini sends a function call whole: one delta with index, id, type, name and the complete arguments.
        var call = Assert.Single(toolDeltas);
        Assert.Equal(0, call.GetProperty("index").GetInt32());
        Assert.StartsWith("call_", call.GetProperty("id").GetString());
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("sig-abc", call.GetProperty("thought_signature").GetString());
        var arguments = Reassemble(toolDeltas);
        Assert.Equal("""{"city":"Paris","unit":"celsius"}""", arguments);
        var finishes = choiceChunks.Select(c => c.GetProperty("choices")[0]).Where(c => c.GetProperty("finish_reason").ValueKind == JsonValueKind.String).ToList();
        Assert.Equal("tool_calls", Assert.Single(finishes).GetProperty("finish_reason").GetString());
        Assert.Equal("tool_calls", choiceChunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var usageChunk = chunks[^1];
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        Assert.Equal(3, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32()); // 1 + 2 args
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
    }

    /// <summary>Concatenates argument fragments in order, the way OpenAI clients rebuild a streamed tool call.</summary>
    internal static string Reassemble(IEnumerable<JsonElement> toolDeltas)
    {
        var sb = new StringBuilder();
        foreach (var d in toolDeltas)
        {
            if (d.TryGetProperty("function", out var f) && f.TryGetProperty("arguments", out var a))
            {
                sb.Append(a.GetString());
            }
        }
        return sb.ToString();
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Tool_results_go_back_as_function_responses_named_from_the_earlier_call(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = new JsonObject
        {
            ["model"] = GoogleHarness.Model,
            ["messages"] = JsonNode.Parse("""
                [
                  {"role":"user","content":"weather in Paris and Rome?"},
                  {"role":"assistant","content":null,"tool_calls":[
                    {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"},"thought_signature":"sig-1"},
                    {"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
                  {"role":"tool","tool_call_id":"call_1","content":"{\"temp\":21}"},
                  {"role":"tool","tool_call_id":"call_2","content":"sunny"}
                ]
                """),
        };
        var json = await h.ChatOkAsync(provider, body);

        var contents = GoogleHarness.BodyOf(h.Upstream(provider, stream: false))["contents"]!.AsArray();
        Assert.Equal(3, contents.Count);
        Assert.Equal(
            """{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"sig-1"},{"functionCall":{"name":"get_weather","args":{"city":"Rome"}}}]}""",
            contents[1]!.ToJsonString());
        Assert.Equal(
            """{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"temp":21}}},{"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}}]}""",
            contents[2]!.ToJsonString());
        Assert.Equal("""tool said: get_weather={"temp":21}; get_weather={"output":"sunny"}""", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Non_streamed_tool_call_maps_to_tool_calls(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        h.Sim.Enqueue(GeminiReply.Call("lookup", """{"q":"fractals","limit":3}"""));
        var body = GoogleHarness.Chat("look it up");
        body["tools"] = JsonNode.Parse("""[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"},"limit":{"type":"integer"}}}}}]""");
        body["tool_choice"] = JsonNode.Parse("""{"type":"function","function":{"name":"lookup"}}""");
        var json = await h.ChatOkAsync(provider, body);

        var upstream = GoogleHarness.BodyOf(h.Upstream(provider, stream: false));
        Assert.Equal("""{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["lookup"]}}""", upstream["toolConfig"]!.ToJsonString());
        var choice = json.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("STOP", choice.GetProperty("native_finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("content").ValueKind);
        var call = Assert.Single(choice.GetProperty("message").GetProperty("tool_calls").EnumerateArray());
        Assert.Equal("lookup", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"q":"fractals","limit":3}""", call.GetProperty("function").GetProperty("arguments").GetString());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Images_by_url_and_data_uri_become_file_data_and_inline_data(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = new JsonObject
        {
            ["model"] = GoogleHarness.Model,
            ["messages"] = JsonNode.Parse("""
                [{"role":"user","content":[
                  {"type":"text","text":"compare"},
                  {"type":"image_url","image_url":{"url":"https://example.com/cat.png?size=big"}},
                  {"type":"image_url","image_url":{"url":"gs://bucket/dog.webp"}},
                  {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQSkZJRg=="}}
                ]}]
                """),
        };
        var json = await h.ChatOkAsync(provider, body);

        var parts = GoogleHarness.BodyOf(h.Upstream(provider, stream: false))["contents"]![0]!["parts"]!.ToJsonString();
        Assert.Equal(
            """[{"text":"compare"},{"fileData":{"mimeType":"image/png","fileUri":"https://example.com/cat.png?size=big"}},{"fileData":{"mimeType":"image/webp","fileUri":"gs://bucket/dog.webp"}},{"inlineData":{"mimeType":"image/jpeg","data":"/9j/4AAQSkZJRg=="}}]""",
            parts);
        Assert.Equal("echo: compare [media: image/png, image/webp, image/jpeg]", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(31, json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32()); // 1 word + 3 × 10
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Json_schema_response_format_becomes_response_schema_without_rejected_keys(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = GoogleHarness.Chat("give me a person");
        body["response_format"] = JsonNode.Parse("""
            {"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":{
              "type":"object","additionalProperties":false,
              "properties":{"name":{"type":"string"},"age":{"type":"integer"},"pet":{"$ref":"#/$defs/pet"}},
              "required":["name","age","pet"],
              "$defs":{"pet":{"type":"object","additionalProperties":false,"properties":{"kind":{"const":"cat"}},"required":["kind"]}}}}}
            """);
        var json = await h.ChatOkAsync(provider, body);

        var config = GoogleHarness.BodyOf(h.Upstream(provider, stream: false))["generationConfig"]!.AsObject();
        Assert.Equal("application/json", config["responseMimeType"]!.GetValue<string>());
        Assert.Equal(
            """{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"pet":{"type":"object","properties":{"kind":{"enum":["cat"]}},"required":["kind"]}},"required":["name","age","pet"]}""",
            config["responseSchema"]!.ToJsonString());
        var content = JsonDocument.Parse(json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!).RootElement;
        Assert.Equal("sample", content.GetProperty("name").GetString());
        Assert.Equal(1, content.GetProperty("age").GetInt32());
        Assert.Equal("cat", content.GetProperty("pet").GetProperty("kind").GetString());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Json_object_response_format_sets_the_mime_type(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = GoogleHarness.Chat("json please");
        body["response_format"] = new JsonObject { ["type"] = "json_object" };
        var json = await h.ChatOkAsync(provider, body);
        var config = GoogleHarness.BodyOf(h.Upstream(provider, stream: false))["generationConfig"]!.AsObject();
        Assert.Equal("""{"responseMimeType":"application/json"}""", config.ToJsonString());
        Assert.Equal("""{"echo":"json please"}""", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Stop_sequences_are_sent_and_applied(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = GoogleHarness.Chat("one two three four");
        body["stop"] = new JsonArray("three", "nine");
        var json = await h.ChatOkAsync(provider, body);
        var config = GoogleHarness.BodyOf(h.Upstream(provider, stream: false))["generationConfig"]!.AsObject();
        Assert.Equal("""["three","nine"]""", config["stopSequences"]!.ToJsonString());
        Assert.Equal("echo: one two ", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", json.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Max_tokens_cut_maps_to_length(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = GoogleHarness.Chat("a b c d e f");
        body["max_completion_tokens"] = 3;
        var json = await h.ChatOkAsync(provider, body);
        Assert.Equal(3, GoogleHarness.BodyOf(h.Upstream(provider, stream: false))["generationConfig"]!["maxOutputTokens"]!.GetValue<int>());
        Assert.Equal("echo: a b", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("length", json.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("MAX_TOKENS", json.GetProperty("choices")[0].GetProperty("native_finish_reason").GetString());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Thinking_becomes_thinking_config_and_thoughts_become_reasoning_content(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = GoogleHarness.Chat("why is the sky blue");
        body["thinking"] = JsonNode.Parse("""{"type":"enabled","budget_tokens":2048}""");
        var json = await h.ChatOkAsync(provider, body);
        var config = GoogleHarness.BodyOf(h.Upstream(provider, stream: false))["generationConfig"]!.AsObject();
        Assert.Equal("""{"thinkingBudget":2048,"includeThoughts":true}""", config["thinkingConfig"]!.ToJsonString());
        var message = json.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("Thinking about: why is the sky blue", message.GetProperty("reasoning_content").GetString());
        Assert.Equal("echo: why is the sky blue", message.GetProperty("content").GetString());
        var usage = json.GetProperty("usage");
        Assert.Equal(7, usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
        Assert.Equal(6 + 7, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(5 + 13, usage.GetProperty("total_tokens").GetInt32());

        var streamed = await h.StreamAsync(provider, (JsonObject)JsonNode.Parse(body.ToJsonString().Replace("\"model\"", "\"stream\":true,\"model\""))!);
        var reasoning = string.Concat(streamed.Where(c => c.GetProperty("choices").GetArrayLength() > 0)
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("reasoning_content", out var r) ? r.GetString() : ""));
        Assert.Equal("Thinking about: why is the sky blue", reasoning);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Reasoning_effort_becomes_a_thinking_budget(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = GoogleHarness.Chat("think");
        body["reasoning_effort"] = "low";
        var json = await h.ChatOkAsync(provider, body);
        var config = GoogleHarness.BodyOf(h.Upstream(provider, stream: false))["generationConfig"]!.AsObject();
        Assert.Equal("""{"thinkingBudget":1024}""", config["thinkingConfig"]!.ToJsonString());
        Assert.False(json.GetProperty("choices")[0].GetProperty("message").TryGetProperty("reasoning_content", out _));
        Assert.Equal(3, json.GetProperty("usage").GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Provider_error_keeps_status_and_comes_back_in_openai_shape(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        h.Sim.Enqueue(GeminiReply.Error(429, "Resource has been exhausted (e.g. check quota)."));
        var response = await h.ChatAsync(provider, GoogleHarness.Chat("hi"));
        Assert.Equal(429, (int)response.StatusCode);
        var json = await response.JsonAsync();
        var error = json.GetProperty("error");
        Assert.Equal($"{provider} error: Resource has been exhausted (e.g. check quota).", error.GetProperty("message").GetString());
        Assert.Equal("RESOURCE_EXHAUSTED", error.GetProperty("type").GetString());
        Assert.Equal("RESOURCE_EXHAUSTED", error.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal(provider, json.GetProperty("provider").GetString());
        Assert.Single(h.Sim.ModelRequests);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Validation_error_from_gemini_is_relayed_as_400(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = GoogleHarness.Chat("hi");
        body["temperature"] = 3.5;
        var response = await h.ChatAsync(provider, body);
        Assert.Equal(400, (int)response.StatusCode);
        var error = (await response.JsonAsync()).GetProperty("error");
        Assert.Contains("temperature must be in the range [0, 2]", error.GetProperty("message").GetString());
        Assert.Equal("INVALID_ARGUMENT", error.GetProperty("type").GetString());
        Assert.Equal(3.5, GoogleHarness.BodyOf(h.Upstream(provider, stream: false))["generationConfig"]!["temperature"]!.GetValue<double>());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Safety_stop_maps_to_content_filter(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        h.Sim.Enqueue(GeminiReply.Safety());
        var json = await h.ChatOkAsync(provider, GoogleHarness.Chat("something risky"));
        var choice = json.GetProperty("choices")[0];
        Assert.Equal("content_filter", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("SAFETY", choice.GetProperty("native_finish_reason").GetString());
        Assert.Equal("", choice.GetProperty("message").GetProperty("content").GetString());

        h.Sim.Enqueue(GeminiReply.Safety());
        var chunks = await h.StreamAsync(provider, GoogleHarness.Chat("something risky", stream: true));
        var last = chunks.Last(c => c.GetProperty("choices").GetArrayLength() > 0).GetProperty("choices")[0];
        Assert.Equal("content_filter", last.GetProperty("finish_reason").GetString());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Blocked_prompt_maps_to_content_filter_with_an_empty_message(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        h.Sim.Enqueue(GeminiReply.BlockedPrompt("PROHIBITED_CONTENT"));
        var json = await h.ChatOkAsync(provider, GoogleHarness.Chat("blocked words here"));
        var choice = Assert.Single(json.GetProperty("choices").EnumerateArray());
        Assert.Equal("content_filter", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("PROHIBITED_CONTENT", choice.GetProperty("native_finish_reason").GetString());
        Assert.Equal("", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(3, json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(0, json.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        h.Sim.Enqueue(GeminiReply.BlockedPrompt("SAFETY"));
        var chunks = await h.StreamAsync(provider, GoogleHarness.Chat("blocked words here", stream: true));
        var first = chunks[0].GetProperty("choices")[0];
        Assert.Equal("assistant", first.GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("content_filter", first.GetProperty("finish_reason").GetString());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Streamed_and_non_streamed_report_identical_usage_and_text(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        h.Sim.Enqueue(new GeminiReply { Text = "the quick brown fox jumps", CachedTokens = 2 });
        var whole = await h.ChatOkAsync(provider, GoogleHarness.Chat("tell me about foxes please"));
        h.Sim.Enqueue(new GeminiReply { Text = "the quick brown fox jumps", CachedTokens = 2 });
        var chunks = await h.StreamAsync(provider, GoogleHarness.Chat("tell me about foxes please", stream: true, includeUsage: true));

        var text = string.Concat(chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0)
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("content", out var t) ? t.GetString() : ""));
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), text);
        Assert.True(chunks.Count(c => c.GetProperty("choices").GetArrayLength() > 0) >= 5, "text should arrive in several chunks");
        var streamedUsage = chunks[^1].GetProperty("usage");
        var usage = whole.GetProperty("usage");
        Assert.Equal(usage.GetRawText(), streamedUsage.GetRawText());
        Assert.Equal(5, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(10, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(2, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(2, usage.GetProperty("cache_read_input_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("cache_creation_input_tokens").GetInt32());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Stream_without_include_usage_has_no_usage_chunk(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var chunks = await h.StreamAsync(provider, GoogleHarness.Chat("no usage please", stream: true));
        Assert.All(chunks, c => Assert.True(c.GetProperty("choices").GetArrayLength() > 0));
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out var u) && u.ValueKind != JsonValueKind.Null));
        Assert.Equal("stop", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        h.Upstream(provider, stream: true);
    }
}
