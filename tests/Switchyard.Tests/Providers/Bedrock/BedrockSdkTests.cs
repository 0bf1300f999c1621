using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Providers.Bedrock;

/// <summary>The official OpenAI .NET SDK, unchanged, through the gateway to Bedrock.</summary>
public sealed class BedrockSdkTests
{
    private static ChatClient Client(BedrockHarness h)
    {
        var options = new OpenAIClientOptions { Endpoint = h.Gateway.V1, RetryPolicy = new ClientRetryPolicy(0) };
        options.AddPolicy(new GatewayHeaderPolicy(BedrockHarness.Headers()), PipelinePosition.PerCall);
        return new OpenAIClient(new ApiKeyCredential("unused"), options).GetChatClient(BedrockHarness.Model);
    }

    [Fact]
    public async Task Sdk_chat_completes_through_bedrock()
    {
        await using var h = await BedrockHarness.StartAsync();
        ChatCompletion completion = await Client(h).CompleteChatAsync([new SystemChatMessage("be brief"), new UserChatMessage("What is a fractal?")]);
        Assert.Equal("echo: What is a fractal?", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(6, completion.Usage.InputTokenCount);
        Assert.Equal("be brief", h.Upstream().GetProperty("system")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Sdk_chat_streams_through_bedrock()
    {
        await using var h = await BedrockHarness.StartAsync();
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Client(h).CompleteChatStreamingAsync([new UserChatMessage("stream me some words")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }
        Assert.Equal("echo: stream me some words", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(4, usage.InputTokenCount);
        Assert.EndsWith("/converse-stream", Assert.Single(h.Sim.Requests).Path);
    }
}
