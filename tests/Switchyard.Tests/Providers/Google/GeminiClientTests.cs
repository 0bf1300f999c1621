using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Providers.Google;

/// <summary>Real clients against Gemini through the gateway: the OpenAI .NET SDK, and the /v1/messages and /v1/responses protocols.</summary>
public sealed class GeminiClientTests
{
    private static ChatClient Client(GoogleHarness h, string provider)
    {
        var headers = h.Headers(provider).Where(x => x.Item1 != "Authorization").ToList();
        var options = new OpenAIClientOptions { Endpoint = h.Gw.V1, RetryPolicy = new ClientRetryPolicy(0) };
        options.AddPolicy(new GatewayHeaderPolicy(headers), PipelinePosition.PerCall);
        var key = provider == "google" ? h.Sim.ApiKey : GoogleHarness.VertexToken;
        return new OpenAIClient(new ApiKeyCredential(key), options).GetChatClient(GoogleHarness.Model);
    }

    [Theory]
    [InlineData("google")]
    [InlineData("vertex-ai")]
    public async Task OpenAI_sdk_completes_a_chat(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        ChatCompletion completion = await Client(h, provider).CompleteChatAsync([new SystemChatMessage("Be kind."), new UserChatMessage("What is a fractal?")]);
        Assert.Equal("echo: What is a fractal?", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(6, completion.Usage.InputTokenCount);
        Assert.Equal(5, completion.Usage.OutputTokenCount);
        var upstream = GoogleHarness.BodyOf(h.Upstream(provider, stream: false));
        Assert.Equal("Be kind.", upstream["systemInstruction"]!["parts"]![0]!["text"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("google")]
    [InlineData("vertex-ai")]
    public async Task OpenAI_sdk_streams_a_chat_with_usage(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var text = new StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Client(h, provider).CompleteChatStreamingAsync([new UserChatMessage("stream me some words")], new ChatCompletionOptions()))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }
        Assert.Equal("echo: stream me some words", text.ToString());
        Assert.True(updates >= 5);
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(4, usage.InputTokenCount);
        Assert.Equal(5, usage.OutputTokenCount);
        h.Upstream(provider, stream: true);
    }

    [Fact]
    public async Task OpenAI_sdk_streams_a_tool_call_from_gemini()
    {
        await using var h = await GoogleHarness.StartAsync();
        h.Sim.Enqueue(Switchyard.Simulators.Google.GeminiReply.Call("get_time", """{"zone":"UTC"}"""));
        var options = new ChatCompletionOptions();
        options.Tools.Add(ChatTool.CreateFunctionTool("get_time", "time now", BinaryData.FromString("""{"type":"object","properties":{"zone":{"type":"string"}},"required":["zone"],"additionalProperties":false}"""), functionSchemaIsStrict: true));
        var args = new StringBuilder();
        string? name = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Client(h, "google").CompleteChatStreamingAsync([new UserChatMessage("what time")], options))
        {
            foreach (var tool in update.ToolCallUpdates)
            {
                name ??= tool.FunctionName;
                args.Append(tool.FunctionArgumentsUpdate?.ToString());
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal("get_time", name);
        Assert.Equal("""{"zone":"UTC"}""", args.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        var tools = GoogleHarness.BodyOf(h.Upstream("google", stream: true))["tools"]!.ToJsonString();
        Assert.DoesNotContain("additionalProperties", tools);
        Assert.DoesNotContain("strict", tools);
    }

    [Fact]
    public async Task Anthropic_messages_request_is_served_by_gemini()
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = """
            {"model":"gemini-2.5-flash","max_tokens":100,"system":"Be brief.",
             "messages":[{"role":"user","content":"hello from messages"}]}
            """;
        var response = await h.Gw.SendAsync(TestGateway.Post("/v1/messages", body,
            ("x-portkey-provider", "google"), ("x-api-key", h.Sim.ApiKey), ("anthropic-version", "2023-06-01")));
        var json = await response.JsonAsync();
        Assert.True(response.IsSuccessStatusCode, json.ToString());
        Assert.Equal("message", json.GetProperty("type").GetString());
        Assert.Equal("echo: hello from messages", json.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("end_turn", json.GetProperty("stop_reason").GetString());
        Assert.Equal(5, json.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        var upstream = GoogleHarness.BodyOf(h.Upstream("google", stream: false));
        Assert.Equal("""{"parts":[{"text":"Be brief."}]}""", upstream["systemInstruction"]!.ToJsonString());
        Assert.Equal(100, upstream["generationConfig"]!["maxOutputTokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Responses_request_is_served_by_vertex_gemini()
    {
        await using var h = await GoogleHarness.StartAsync();
        var body = """{"model":"gemini-2.5-flash","instructions":"Be brief.","input":"hello from responses"}""";
        var response = await h.Gw.SendAsync(TestGateway.Post("/v1/responses", body, h.Headers("vertex-ai")));
        var json = await response.JsonAsync();
        Assert.True(response.IsSuccessStatusCode, json.ToString());
        Assert.Equal("response", json.GetProperty("object").GetString());
        var text = json.GetProperty("output").EnumerateArray().First(o => o.GetProperty("type").GetString() == "message")
            .GetProperty("content")[0].GetProperty("text").GetString();
        Assert.Equal("echo: hello from responses", text);
        var upstream = GoogleHarness.BodyOf(h.Upstream("vertex-ai", stream: false));
        Assert.Equal("Be brief.", upstream["systemInstruction"]!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("""[{"role":"user","parts":[{"text":"hello from responses"}]}]""", upstream["contents"]!.ToJsonString());
    }
}
