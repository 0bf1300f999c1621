#pragma warning disable OPENAI001 // The Responses client is marked experimental in the SDK.
using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using OpenAI.Responses;
using Switchyard.Simulators;
using Switchyard.Simulators.Anthropic;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Clients;

/// <summary>Official SDKs speaking one protocol to a provider that speaks another: the gateway translates both ways.</summary>
public sealed class CrossProtocolSdkTests
{
    private static AnthropicClient AnthropicSdk(TestGateway gw, string key, params (string Name, string Value)[] headers)
    {
        var http = new HttpClient();
        foreach (var (name, value) in headers)
        {
            http.DefaultRequestHeaders.Add(name, value);
        }
        return new AnthropicClient { ApiKey = key, BaseUrl = gw.BaseUrl.ToString().TrimEnd('/'), HttpClient = http, MaxRetries = 0 };
    }

    private static MessageCreateParams Ask(string model, string text) => new()
    {
        Model = model,
        MaxTokens = 200,
        Messages = [new UserMessageParam { Content = text }],
    };

    /// <summary>Non-streamed and streamed answers; returns (text, streamed text, usage, streamed usage).</summary>
    private static async Task<(string Text, string Streamed, Anthropic.Models.Messages.Usage Usage, long StreamedOutput, long StreamedInput)> RoundTripAsync(AnthropicClient client, string model)
    {
        var message = await client.Messages.Create(Ask(model, "hello across protocols"));
        Assert.True(message.Content[0].TryPickText(out var textBlock));
        var streamed = new StringBuilder();
        long output = 0, input = 0;
        var kinds = new List<string>();
        await foreach (var e in client.Messages.CreateStreaming(Ask(model, "hello across protocols")))
        {
            if (e.TryPickStart(out var start))
            {
                kinds.Add("message_start");
                input = start!.Message.Usage.InputTokens;
            }
            if (e.TryPickContentBlockDelta(out var delta) && delta!.Delta.TryPickText(out var piece))
            {
                streamed.Append(piece!.Text);
            }
            if (e.TryPickDelta(out var end))
            {
                kinds.Add("message_delta");
                output = end!.Usage.OutputTokens;
                input = end.Usage.InputTokens ?? input;
            }
            if (e.TryPickStop(out _))
            {
                kinds.Add("message_stop");
            }
        }
        Assert.Equal(["message_start", "message_delta", "message_stop"], kinds);
        return (textBlock!.Text, streamed.ToString(), message.Usage, output, input);
    }

    [Fact]
    public async Task Anthropic_sdk_talks_to_an_openai_target()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = "sk-openai" });
        await using var gw = await TestGateway.StartAsync();
        var client = AnthropicSdk(gw, "sk-openai", ("x-portkey-provider", "openai"), ("x-portkey-custom-host", sim.BaseUrl.ToString()));
        var (text, streamed, usage, output, input) = await RoundTripAsync(client, "gpt-4o-mini");
        Assert.Equal("echo: hello across protocols", text);
        Assert.Equal(text, streamed);
        Assert.Equal(usage.OutputTokens, output);
        Assert.Equal(usage.InputTokens, input);
        Assert.True(usage.InputTokens > 0);
        Assert.All(sim.Requests, r => Assert.Equal("/v1/chat/completions", r.Path));
        Assert.Equal("Bearer sk-openai", sim.Requests[0].Headers["Authorization"]);
    }

    [Fact]
    public async Task Anthropic_sdk_talks_to_a_bedrock_target()
    {
        await using var harness = await Providers.Bedrock.BedrockHarness.StartAsync();
        var client = AnthropicSdk(harness.Gateway, "unused", Providers.Bedrock.BedrockHarness.Headers());
        var (text, streamed, usage, output, input) = await RoundTripAsync(client, Providers.Bedrock.BedrockHarness.Model);
        Assert.Equal("echo: hello across protocols", text);
        Assert.Equal(text, streamed);
        Assert.Equal(usage.OutputTokens, output);
        Assert.Equal(usage.InputTokens, input);
        Assert.Equal(2, harness.Sim.Requests.Count);
        Assert.EndsWith("/converse", harness.Sim.Requests[0].Path);
        Assert.EndsWith("/converse-stream", harness.Sim.Requests[1].Path);
        Assert.StartsWith("AWS4-HMAC-SHA256 ", harness.Sim.Requests[0].Headers["Authorization"]);
    }

    [Fact]
    public async Task Openai_responses_client_talks_to_an_anthropic_target()
    {
        await using var sim = await AnthropicSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["anthropic"] = sim.BaseUrl.ToString() } } });
        var client = OpenAiResponsesSdkTests.Client(gw, "sk-ant-test", ("x-portkey-provider", "anthropic"));

        var options = new CreateResponseOptions { Model = "claude-sonnet-4-5", MaxOutputTokenCount = 300 };
        options.InputItems.Add(ResponseItem.CreateUserMessageItem("hello responses"));
        ResponseResult result = await client.CreateResponseAsync(options);
        Assert.Equal("echo: hello responses", result.GetOutputText());
        var sent = JsonDocument.Parse(sim.Requests[0].Body).RootElement;
        Assert.Equal("/v1/messages", sim.Requests[0].Path);
        Assert.Equal(300, sent.GetProperty("max_tokens").GetInt32());
        Assert.Equal("sk-ant-test", sim.Requests[0].Headers["x-api-key"]);

        var tool = new CreateResponseOptions { Model = "claude-sonnet-4-5", StreamingEnabled = true, ToolChoice = ResponseToolChoice.CreateRequiredChoice() };
        tool.InputItems.Add(ResponseItem.CreateUserMessageItem("weather in Oslo"));
        tool.Tools.Add(ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""), strictModeEnabled: false));
        var (pieces, call, completed) = await OpenAiResponsesSdkTests.StreamAsync(client, tool);
        Assert.NotNull(call);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.True(pieces.Count > 1, "the tool input should stream in pieces");
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(string.Concat(pieces)).RootElement.ValueKind);
        Assert.True(completed!.Usage.InputTokenCount > 0);
        var streamedBody = JsonDocument.Parse(sim.Requests[1].Body).RootElement;
        Assert.Equal("any", streamedBody.GetProperty("tool_choice").GetProperty("type").GetString());
        Assert.True(streamedBody.GetProperty("stream").GetBoolean());
    }

    [Fact]
    public async Task Claude_on_vertex_is_reached_by_raw_predict_with_a_bearer_token()
    {
        await using var sim = await AnthropicSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["vertex-ai"] = sim.Root.ToString().TrimEnd('/') } } });
        (string, string)[] headers = [("x-portkey-provider", "vertex-ai"), ("Authorization", "Bearer ya29.vertex-token"),
            ("x-portkey-vertex-project-id", "proj-1"), ("x-portkey-vertex-region", "europe-west1")];
        var chat = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("hello vertex claude", model: "claude-sonnet-4-5@20250929"), headers));
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        var completion = await chat.JsonAsync();
        Assert.Equal("echo: hello vertex claude", completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        var first = sim.Requests[0];
        Assert.Equal("/v1/projects/proj-1/locations/europe-west1/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict", Uri.UnescapeDataString(first.Path));
        Assert.Equal("Bearer ya29.vertex-token", first.Headers["Authorization"]);
        var body = JsonDocument.Parse(first.Body).RootElement;
        Assert.Equal("vertex-2023-10-16", body.GetProperty("anthropic_version").GetString());
        Assert.False(body.TryGetProperty("model", out _));

        var stream = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("hello vertex claude", model: "claude-sonnet-4-5@20250929", stream: true, includeUsage: true), headers));
        var text = await stream.Content.ReadAsStringAsync();
        Assert.EndsWith(":streamRawPredict", Uri.UnescapeDataString(sim.Requests[1].Path));
        var usage = JsonDocument.Parse(text.Split("\n\n").Where(e => e.Contains("\"usage\":{", StringComparison.Ordinal)).Last()["data: ".Length..]).RootElement.GetProperty("usage");
        Assert.Equal(completion.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(completion.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32());
    }
}
