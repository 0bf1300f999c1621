#pragma warning disable OPENAI001 // The Responses client is marked experimental in the SDK.
using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;
using OpenAI.Responses;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Clients;

/// <summary>The OpenAI .NET SDK's Responses client, unchanged, through the gateway to targets without a Responses API.</summary>
public sealed class OpenAiResponsesSdkTests
{
    internal static ResponsesClient Client(TestGateway gw, string key, params (string, string)[] headers)
    {
        var options = new OpenAIClientOptions { Endpoint = gw.V1, RetryPolicy = new ClientRetryPolicy(0) };
        options.AddPolicy(new GatewayHeaderPolicy(headers), PipelinePosition.PerCall);
        return new OpenAIClient(new ApiKeyCredential(key), options).GetResponsesClient();
    }

    /// <summary>Streams a response, returning the function-call argument pieces, the finished call and the completed response.</summary>
    internal static async Task<(List<string> Pieces, FunctionCallResponseItem? Call, ResponseResult? Completed)> StreamAsync(ResponsesClient client, CreateResponseOptions options)
    {
        var pieces = new List<string>();
        FunctionCallResponseItem? call = null;
        ResponseResult? completed = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(options))
        {
            switch (update)
            {
                case StreamingResponseFunctionCallArgumentsDeltaUpdate delta:
                    pieces.Add(delta.Delta.ToString());
                    break;
                case StreamingResponseOutputItemDoneUpdate { Item: FunctionCallResponseItem done }:
                    call = done;
                    break;
                case StreamingResponseCompletedUpdate end:
                    completed = end.Response;
                    break;
            }
        }
        return (pieces, call, completed);
    }

    [Fact]
    public async Task The_responses_client_gets_text_and_a_streamed_function_call_from_a_chat_only_target()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var client = Client(gw, "gsk-test", ("x-portkey-provider", "groq"), ("x-portkey-custom-host", sim.BaseUrl.ToString()));

        var simple = new CreateResponseOptions { Model = "llama-3.3-70b" };
        simple.InputItems.Add(ResponseItem.CreateUserMessageItem("tell me about fractals"));
        ResponseResult result = await client.CreateResponseAsync(simple);
        Assert.Contains("tell me about fractals", result.GetOutputText());
        Assert.True(result.Usage.TotalTokenCount > 0);

        var options = new CreateResponseOptions { Model = "llama-3.3-70b", StreamingEnabled = true, ToolChoice = ResponseToolChoice.CreateRequiredChoice() };
        options.InputItems.Add(ResponseItem.CreateUserMessageItem("weather in Oslo"));
        options.Tools.Add(ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""), strictModeEnabled: false));
        var (pieces, call, completed) = await StreamAsync(client, options);
        Assert.NotNull(call);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.True(pieces.Count > 1);
        Assert.Equal(string.Concat(pieces), call.FunctionArguments.ToString());
        Assert.NotNull(completed);
        Assert.True(completed.Usage.OutputTokenCount > 0);
        Assert.Equal("/v1/chat/completions", sim.Requests[^1].Path);
    }
}
