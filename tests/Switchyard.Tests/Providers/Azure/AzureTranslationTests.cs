using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using Switchyard.Simulators.Azure;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Providers.Azure;

/// <summary>Request features, tool streaming, Anthropic Messages ingress and the OpenAI .NET SDK through Azure OpenAI.</summary>
public sealed class AzureTranslationTests : IAsyncLifetime
{
    private AzureOpenAiSimulator _sim = null!;
    private TestGateway _gw = null!;

    private static readonly string Config =
        "{\"provider\":\"azure-openai\",\"resource_name\":\"myres\",\"deployment_id\":\"gpt-4o\",\"api_version\":\"2024-10-21\",\"api_key\":\"azure-key\"}";

    public async Task InitializeAsync()
    {
        _sim = await AzureOpenAiSimulator.StartAsync();
        _gw = await TestGateway.StartAsync(null, s => s with { Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["azure-openai"] = _sim.BaseTemplate } } });
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _sim.DisposeAsync();
    }

    private Task<HttpResponseMessage> Post(string path, string body) =>
        _gw.SendAsync(TestGateway.Post(path, body, ("x-portkey-config", Config)), HttpCompletionOption.ResponseHeadersRead);

    private static List<JsonElement> Chunks(string sse) =>
        sse.Split("\n\n").Where(e => e.StartsWith("data: {", StringComparison.Ordinal)).Select(e => JsonDocument.Parse(e[6..]).RootElement.Clone()).ToList();

    private static List<(string Event, JsonElement Data)> Events(string sse) =>
        sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('\n'))
            .Where(lines => lines.Any(l => l.StartsWith("event: ", StringComparison.Ordinal)))
            .Select(lines => (lines.First(l => l.StartsWith("event: ", StringComparison.Ordinal))[7..],
                JsonDocument.Parse(lines.First(l => l.StartsWith("data: ", StringComparison.Ordinal))[6..]).RootElement.Clone()))
            .ToList();

    private const string WeatherTool =
        """{"type":"function","function":{"name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},"required":["city"]}}}""";

    [Fact]
    public async Task Image_parts_json_schema_stop_and_tools_reach_azure_unchanged()
    {
        var image = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
        var body = new JsonObject
        {
            ["model"] = "gpt-4o",
            ["messages"] = JsonNode.Parse($$$"""
                [{"role":"system","content":"describe"},
                 {"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png","detail":"low"}},{"type":"image_url","image_url":{"url":"{{{image}}}"}}]},
                 {"role":"assistant","content":"a cat"},
                 {"role":"user","content":"and the weather?"}]
                """),
            ["response_format"] = JsonNode.Parse("""{"type":"json_schema","json_schema":{"name":"answer","strict":true,"schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}"""),
            ["stop"] = new JsonArray("END", "\n\n"),
            ["tools"] = new JsonArray(JsonNode.Parse(WeatherTool)),
            ["tool_choice"] = "auto",
            ["temperature"] = 0.2,
        };
        var r = await Post("/v1/chat/completions", body.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("echo: and the weather?", (await r.JsonAsync()).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        var seen = Assert.Single(_sim.Requests).Json;
        var sent = JsonDocument.Parse(body.ToJsonString()).RootElement;
        foreach (var field in new[] { "messages", "response_format", "stop", "tools", "tool_choice", "temperature" })
        {
            Assert.Equal(sent.GetProperty(field).GetRawText(), seen.GetProperty(field).GetRawText());
        }
        var parts = seen.GetProperty("messages")[1].GetProperty("content");
        Assert.Equal("https://example.com/cat.png", parts[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal(image, parts[2].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("answer", seen.GetProperty("response_format").GetProperty("json_schema").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Non_streamed_tool_call_comes_back_with_joined_arguments()
    {
        _sim.ToolCallNext("call_az1", "get_weather", "{\"city\":", "\"Paris\"}");
        var body = $$"""{"model":"gpt-4o","messages":[{"role":"user","content":"weather in Paris"}],"tools":[{{WeatherTool}}],"tool_choice":"required"}""";
        var json = await (await Post("/v1/chat/completions", body)).JsonAsync();
        var choice = json.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var call = choice.GetProperty("message").GetProperty("tool_calls")[0];
        Assert.Equal("call_az1", call.GetProperty("id").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("{\"city\":\"Paris\"}", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("required", Assert.Single(_sim.Requests).Json.GetProperty("tool_choice").GetString());
    }

    [Fact]
    public async Task Streamed_tool_call_arguments_arrive_in_pieces_and_reassemble()
    {
        _sim.ToolCallNext("call_az2", "get_weather", "{\"ci", "ty\":\"Os", "lo\",\"unit\"", ":\"c\"}");
        var body = $$"""{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"weather in Oslo"}],"tools":[{{WeatherTool}}]}""";
        var r = await Post("/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var sse = await r.Content.ReadAsStringAsync();
        Assert.EndsWith("data: [DONE]\n\n", sse);
        var chunks = Chunks(sse).Where(c => c.GetProperty("choices").GetArrayLength() > 0).ToList();
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var calls = chunks.SelectMany(c => c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("tool_calls", out var t) ? t.EnumerateArray().ToList() : []).ToList();
        var first = calls[0];
        Assert.Equal(0, first.GetProperty("index").GetInt32());
        Assert.Equal("call_az2", first.GetProperty("id").GetString());
        Assert.Equal("get_weather", first.GetProperty("function").GetProperty("name").GetString());
        var fragments = calls.Skip(1).Select(c => c.GetProperty("function").GetProperty("arguments").GetString()).ToList();
        Assert.Equal(["{\"ci", "ty\":\"Os", "lo\",\"unit\"", ":\"c\"}"], fragments);
        Assert.All(calls.Skip(1), c => Assert.False(c.TryGetProperty("id", out _)));
        var arguments = string.Concat(calls.Select(c => c.GetProperty("function").GetProperty("arguments").GetString()));
        Assert.Equal("Oslo", JsonDocument.Parse(arguments).RootElement.GetProperty("city").GetString());
        Assert.Equal("tool_calls", chunks.Last().GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var usage = Chunks(sse).Last().GetProperty("usage");
        Assert.Equal(5, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(3, usage.GetProperty("prompt_tokens").GetInt32());
        var seen = Assert.Single(_sim.Requests).Json;
        Assert.True(seen.GetProperty("stream").GetBoolean());
        Assert.Equal("get_weather", seen.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Anthropic_messages_are_answered_by_azure_through_translation()
    {
        var body = """{"model":"claude-style","max_tokens":256,"system":"be brief","stop_sequences":["STOP"],"messages":[{"role":"user","content":"hello from messages"}]}""";
        var r = await Post("/v1/messages", body);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var json = await r.JsonAsync();
        Assert.Equal("message", json.GetProperty("type").GetString());
        Assert.Equal("assistant", json.GetProperty("role").GetString());
        Assert.Equal("echo: hello from messages", json.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("end_turn", json.GetProperty("stop_reason").GetString());
        Assert.Equal(5, json.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal(4, json.GetProperty("usage").GetProperty("output_tokens").GetInt32());

        var seen = Assert.Single(_sim.Requests);
        Assert.Equal("/myres/openai/deployments/gpt-4o/chat/completions", seen.Path);
        Assert.Equal("?api-version=2024-10-21", seen.Query);
        var messages = seen.Json.GetProperty("messages");
        Assert.Equal("system", messages[0].GetProperty("role").GetString());
        Assert.Equal("be brief", messages[0].GetProperty("content").GetString());
        Assert.Equal("user", messages[1].GetProperty("role").GetString());
        Assert.Equal("[\"STOP\"]", seen.Json.GetProperty("stop").GetRawText());
    }

    [Fact]
    public async Task Anthropic_messages_stream_from_azure_skips_the_prompt_filter_chunk()
    {
        var body = """{"model":"claude-style","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"stream me"}]}""";
        var r = await Post("/v1/messages", body);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var events = Events(await r.Content.ReadAsStringAsync());
        var names = events.Select(e => e.Event).ToList();
        Assert.Equal("message_start", names[0]);
        Assert.Equal("content_block_start", names[1]);
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], names[^3..]);
        Assert.All(names[2..^3], n => Assert.Equal("content_block_delta", n));
        Assert.Single(names, "message_start");
        var message = events[0].Data.GetProperty("message");
        Assert.Equal("gpt-4o-2024-11-20", message.GetProperty("model").GetString());
        Assert.False(string.IsNullOrEmpty(message.GetProperty("id").GetString()));
        var text = string.Concat(events.Where(e => e.Event == "content_block_delta").Select(e => e.Data.GetProperty("delta").GetProperty("text").GetString()));
        Assert.Equal("echo: stream me ", text);
        var delta = events[^2].Data;
        Assert.Equal("end_turn", delta.GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.Equal(3, delta.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        var seen = Assert.Single(_sim.Requests).Json;
        Assert.True(seen.GetProperty("stream").GetBoolean());
        Assert.True(seen.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public async Task Anthropic_messages_stream_carries_an_azure_tool_call_as_tool_use()
    {
        _sim.ToolCallNext("call_az3", "get_weather", "{\"city\"", ":\"Rome\"}");
        var body = """{"model":"claude-style","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"weather in Rome"}],"tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]}""";
        var events = Events(await (await Post("/v1/messages", body)).Content.ReadAsStringAsync());
        var start = Assert.Single(events, e => e.Event == "content_block_start").Data.GetProperty("content_block");
        Assert.Equal("tool_use", start.GetProperty("type").GetString());
        Assert.Equal("get_weather", start.GetProperty("name").GetString());
        var json = string.Concat(events.Where(e => e.Event == "content_block_delta").Select(e => e.Data.GetProperty("delta").GetProperty("partial_json").GetString()));
        Assert.Equal("{\"city\":\"Rome\"}", json);
        Assert.Equal("tool_use", events.Single(e => e.Event == "message_delta").Data.GetProperty("delta").GetProperty("stop_reason").GetString());
        var tool = Assert.Single(_sim.Requests).Json.GetProperty("tools")[0];
        Assert.Equal("function", tool.GetProperty("type").GetString());
        Assert.Equal("get_weather", tool.GetProperty("function").GetProperty("name").GetString());
    }

    [Fact]
    public async Task OpenAi_dotnet_sdk_chats_and_streams_through_the_gateway_to_azure()
    {
        var options = new OpenAIClientOptions { Endpoint = _gw.V1, RetryPolicy = new ClientRetryPolicy(0) };
        options.AddPolicy(new GatewayHeaderPolicy(("x-portkey-config", Config)), PipelinePosition.PerCall);
        var chat = new OpenAIClient(new ApiKeyCredential("unused-by-config"), options).GetChatClient("gpt-4o");

        ChatCompletion completion = await chat.CompleteChatAsync([new SystemChatMessage("be brief"), new UserChatMessage("sdk says hi")]);
        Assert.Equal("echo: sdk says hi", completion.Content[0].Text);
        Assert.Equal("gpt-4o-2024-11-20", completion.Model);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(5, completion.Usage.InputTokenCount);

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("sdk streams now")], new ChatCompletionOptions()))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            usage ??= update.Usage;
        }
        Assert.Equal("echo: sdk streams now ", text.ToString());
        Assert.NotNull(usage);
        Assert.Equal(3, usage.InputTokenCount);

        Assert.Equal(2, _sim.Requests.Count);
        Assert.All(_sim.Requests, q =>
        {
            Assert.Equal("/myres/openai/deployments/gpt-4o/chat/completions", q.Path);
            Assert.Equal("azure-key", q.Headers["api-key"]);
            Assert.False(q.Headers.ContainsKey("Authorization"));
        });
        Assert.Equal("sdk says hi", _sim.Requests[0].Json.GetProperty("messages")[1].GetProperty("content").GetString());
        Assert.True(_sim.Requests[1].Json.GetProperty("stream").GetBoolean());
    }
}
