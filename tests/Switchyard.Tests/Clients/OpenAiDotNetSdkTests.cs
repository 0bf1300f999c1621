using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Clients;

/// <summary>The official OpenAI .NET SDK, unchanged, through the gateway: chat, streaming and embeddings in every config mode.</summary>
public sealed class OpenAiDotNetSdkTests : IAsyncLifetime
{
    private OpenAiSimulator _sim = null!;
    private TestGateway _gw = null!;

    public async Task InitializeAsync()
    {
        _sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = Requests.Key });
        _gw = await TestGateway.StartAsync(new Dictionary<string, string>
        {
            ["sdk-named.json"] = Requests.Target(_sim.BaseUrl),
        });
    }

    public async Task DisposeAsync()
    {
        await _gw.DisposeAsync();
        await _sim.DisposeAsync();
    }

    private OpenAIClient Client(string mode)
    {
        (string, string)[] headers = mode switch
        {
            "header" => [("x-portkey-provider", "openai"), ("x-portkey-custom-host", _sim.BaseUrl.ToString())],
            "inline" => [("x-portkey-config", Requests.Target(_sim.BaseUrl))],
            _ => [("x-portkey-config", "sdk-named")],
        };
        var options = new OpenAIClientOptions { Endpoint = _gw.V1, RetryPolicy = new ClientRetryPolicy(0) };
        options.AddPolicy(new GatewayHeaderPolicy(headers), PipelinePosition.PerCall);
        // In config modes the config carries the provider key; the SDK insists on some key of its own.
        return new OpenAIClient(new ApiKeyCredential(mode == "header" ? Requests.Key : "unused-by-config"), options);
    }

    [Theory]
    [InlineData("header")]
    [InlineData("inline")]
    [InlineData("named")]
    public async Task Chat_completes(string mode)
    {
        var chat = Client(mode).GetChatClient("gpt-4o-mini");
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("What is a fractal?")]);
        Assert.Equal("echo: What is a fractal?", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.True(completion.Usage.TotalTokenCount > 0);
    }

    [Theory]
    [InlineData("header")]
    [InlineData("inline")]
    [InlineData("named")]
    public async Task Chat_streams(string mode)
    {
        var chat = Client(mode).GetChatClient("gpt-4o-mini");
        var text = new StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("stream me some words")]))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            usage ??= update.Usage;
        }
        Assert.Equal("echo: stream me some words", text.ToString());
        Assert.True(updates >= 4);
        Assert.NotNull(usage);
    }

    [Theory]
    [InlineData("header")]
    [InlineData("inline")]
    [InlineData("named")]
    public async Task Embeddings_are_generated(string mode)
    {
        var client = Client(mode).GetEmbeddingClient("text-embedding-3-small");
        OpenAIEmbeddingCollection result = await client.GenerateEmbeddingsAsync(["first text", "second text"]);
        Assert.Equal(2, result.Count);
        var vector = result[0].ToFloats().ToArray();
        Assert.Equal(8, vector.Length);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 3);
        Assert.NotEqual(vector, result[1].ToFloats().ToArray());
    }
}
