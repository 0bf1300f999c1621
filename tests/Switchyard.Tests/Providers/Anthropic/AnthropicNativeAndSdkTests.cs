using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Models.Messages;
using OpenAI;
using OpenAI.Chat;
using Switchyard.Tests.Infrastructure;
using Xunit;
using static Switchyard.Tests.Providers.Anthropic.AnthropicHarness;

namespace Switchyard.Tests.Providers.Anthropic;

/// <summary>/v1/messages passes through to Anthropic untouched; the official Anthropic and OpenAI .NET SDKs work through the gateway.</summary>
public sealed class AnthropicNativeAndSdkTests
{
    [Fact]
    public async Task Messages_pass_through_byte_for_byte_with_version_and_beta_headers()
    {
        await using var h = await StartAsync();
        // Odd spacing and key order: any re-serialisation would show.
        var body = "{ \"max_tokens\" : 50, \"model\":\"claude-haiku-4-5\",\n \"messages\":[{\"role\":\"user\",\"content\":\"hi  there\"}] }";
        var response = await h.Gateway.SendAsync(TestGateway.Post("/v1/messages", body,
            ("x-portkey-provider", "anthropic"), ("x-api-key", Key), ("anthropic-version", "2023-01-01"), ("anthropic-beta", "prompt-caching-2024-07-31")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.JsonAsync();
        Assert.Equal("message", json.GetProperty("type").GetString());
        Assert.Equal("echo: hi  there", json.GetProperty("content")[0].GetProperty("text").GetString());
        var seen = Assert.Single(h.Sim.Requests);
        Assert.Equal("/v1/messages", seen.Path);
        Assert.Equal(body, seen.BodyText);
        Assert.Equal(Key, seen.Headers["x-api-key"]);
        Assert.Equal("2023-01-01", seen.Headers["anthropic-version"]);
        Assert.Equal("prompt-caching-2024-07-31", seen.Headers["anthropic-beta"]);
        Assert.DoesNotContain(seen.Headers.Keys, k => k.StartsWith("x-portkey-", StringComparison.OrdinalIgnoreCase));

        // Streamed: Anthropic's own event stream comes back as it was.
        var streamBody = "{\"model\":\"claude-haiku-4-5\",\"max_tokens\":50,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}";
        var streamed = await h.Gateway.SendAsync(TestGateway.Post("/v1/messages", streamBody, ("x-portkey-provider", "anthropic"), ("x-api-key", Key)));
        var text = await streamed.Content.ReadAsStringAsync();
        Assert.StartsWith("event: message_start\n", text);
        Assert.Contains("event: message_stop\n", text);
        Assert.Equal(streamBody, h.Sim.Requests[^1].BodyText);
        Assert.Equal("2023-06-01", h.Sim.Requests[^1].Headers["anthropic-version"]);
        Assert.False(h.Sim.Requests[^1].Headers.ContainsKey("anthropic-beta"));
    }

    [Fact]
    public async Task Config_fields_set_anthropic_version_and_beta_for_translated_chat()
    {
        await using var h = await StartAsync();
        var config = $"{{\"provider\":\"anthropic\",\"api_key\":\"{Key}\",\"anthropic_version\":\"2024-10-22\",\"anthropic_beta\":\"tools-2024-05-16\"}}";
        var response = await h.Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", Chat(User("hi")).ToJsonString(), ("x-portkey-config", config)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = h.Sim.Requests[^1];
        Assert.Equal(Key, seen.Headers["x-api-key"]);
        Assert.Equal("2024-10-22", seen.Headers["anthropic-version"]);
        Assert.Equal("tools-2024-05-16", seen.Headers["anthropic-beta"]);
    }

    [Fact]
    public async Task Anthropic_sdk_sends_messages_and_streams_through_the_gateway()
    {
        await using var h = await StartAsync();
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Add("x-portkey-provider", "anthropic");
        var client = new AnthropicClient { ApiKey = Key, BaseUrl = h.Gateway.BaseUrl.ToString().TrimEnd('/'), HttpClient = http, MaxRetries = 0 };
        var parameters = new MessageCreateParams
        {
            Model = "claude-sonnet-4-5",
            MaxTokens = 100,
            Messages = [new UserMessageParam { Content = "hello sdk" }],
        };

        var message = await client.Messages.Create(parameters);
        Assert.True(message.Content[0].TryPickText(out var textBlock));
        Assert.Equal("echo: hello sdk", textBlock!.Text);
        Assert.Equal(3, message.Usage.OutputTokens);
        var seen = h.Sim.LastBody;
        Assert.Equal("claude-sonnet-4-5", seen["model"]!.GetValue<string>());
        Assert.Equal(100, seen["max_tokens"]!.GetValue<int>());
        Assert.Equal(Key, h.Sim.Requests[^1].Headers["x-api-key"]);
        Assert.Equal("/v1/messages", h.Sim.Requests[^1].Path);

        var streamed = new StringBuilder();
        var events = 0;
        await foreach (var e in client.Messages.CreateStreaming(parameters with { Messages = [new UserMessageParam { Content = "stream it please" }] }))
        {
            events++;
            if (e.TryPickContentBlockDelta(out var delta) && delta!.Delta.TryPickText(out var piece))
            {
                streamed.Append(piece!.Text);
            }
        }
        Assert.Equal("echo: stream it please", streamed.ToString());
        Assert.True(events >= 7, $"expected a full event sequence, got {events}");
        Assert.True(h.Sim.LastBody["stream"]!.GetValue<bool>());
    }

    [Fact]
    public async Task OpenAi_sdk_chats_and_streams_through_the_gateway_to_anthropic()
    {
        await using var h = await StartAsync();
        var options = new OpenAIClientOptions { Endpoint = h.Gateway.V1 };
        options.AddPolicy(new GatewayHeaderPolicy(("x-portkey-provider", "anthropic")), PipelinePosition.PerCall);
        var chat = new OpenAIClient(new ApiKeyCredential(Key), options).GetChatClient("claude-sonnet-4-5");

        ChatCompletion completion = await chat.CompleteChatAsync([new SystemChatMessage("Be kind."), new UserChatMessage("hello openai sdk")]);
        Assert.Equal("echo: hello openai sdk", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(4, completion.Usage.OutputTokenCount);
        JsonAssert.Equal("""[{"type":"text","text":"Be kind."}]""", h.Sim.LastBody["system"]);

        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("stream for the sdk")], new ChatCompletionOptions()))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal("echo: stream for the sdk", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.True(h.Sim.LastBody["stream"]!.GetValue<bool>());
        Assert.Equal(4, h.Sim.LastBody["messages"]![0]!["content"]![0]!["text"]!.GetValue<string>().Split(' ').Length);
    }
}
