using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Simulators;
using Switchyard.Simulators.Anthropic;
using Switchyard.Simulators.Bedrock;
using Switchyard.Simulators.Google;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Providers.Bedrock;
using Switchyard.Tests.Providers.Google;
using Xunit;

namespace Switchyard.Tests.Translation;

/// <summary>
/// A translated provider that answers 2xx with something that is not its answer shape: the client gets a 502 naming the
/// provider and what was wrong (Portkey's "Invalid response received from …"), or, streamed, the protocol's stream error.
/// </summary>
public sealed class InvalidAnswerTests
{
    private const string Unexpected = """{"unexpected":true}""";

    private static string ChatBody(string model, bool stream = false) =>
        $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}""";

    /// <summary>The OpenAI-shaped gateway error for chat and responses clients.</summary>
    private static async Task AssertOpenAiShaped502Async(HttpResponseMessage response, string provider, string problem)
    {
        var body = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadGateway, $"{(int)response.StatusCode}: {body}");
        var error = body.GetProperty("error");
        Assert.StartsWith($"Invalid response received from {provider}: ", error.GetProperty("message").GetString());
        Assert.Contains(problem, error.GetProperty("message").GetString());
        Assert.Equal("bad_upstream_response", error.GetProperty("type").GetString());
        Assert.Equal(provider, body.GetProperty("provider").GetString());
    }

    /// <summary>What a streamed client read before the gateway broke the connection, and whether it did.</summary>
    private static async Task<(string Text, bool Broken)> ReadStreamAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stream = await response.Content.ReadAsStreamAsync();
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                text.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
            return (text.ToString(), false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return (text.ToString(), true);
        }
    }

    /// <summary>A chat stream that ends with the error event (no [DONE]) naming the provider, and a broken connection.</summary>
    private static async Task AssertChatStreamErrorAsync(HttpResponseMessage response, string provider)
    {
        var (text, broken) = await ReadStreamAsync(response);
        Assert.True(broken, "the connection must break so the client knows the answer is incomplete: " + text);
        Assert.DoesNotContain("[DONE]", text);
        var last = text.Split('\n').Last(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
        var error = JsonNode.Parse(last)!["error"]!;
        Assert.StartsWith($"Invalid response received from {provider}: ", error["message"]!.GetValue<string>());
        Assert.Equal("upstream_stream_error", error["type"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Anthropic_answering_something_else_than_a_message_is_a_502_or_a_stream_error(bool stream)
    {
        await using var h = await Providers.Anthropic.AnthropicHarness.StartAsync();
        h.Sim.Enqueue(stream ? AnthropicReply.Raw("data: " + Unexpected + "\n\n", "text/event-stream") : AnthropicReply.Raw(Unexpected));
        var request = TestGateway.Post("/v1/chat/completions", ChatBody("claude-sonnet-4-5", stream), Providers.Anthropic.AnthropicHarness.Headers);
        var response = await h.Gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (stream)
        {
            await AssertChatStreamErrorAsync(response, "anthropic");
        }
        else
        {
            await AssertOpenAiShaped502Async(response, "anthropic", "no content array");
        }
    }

    [Theory]
    [InlineData("google", false)]
    [InlineData("google", true)]
    [InlineData("vertex-ai", false)]
    [InlineData("vertex-ai", true)]
    public async Task Gemini_answering_without_candidates_is_a_502_or_a_stream_error(string provider, bool stream)
    {
        await using var h = await GoogleHarness.StartAsync();
        const string NoCandidates = """{"usageMetadata":{"promptTokenCount":3,"totalTokenCount":3},"modelVersion":"gemini-2.5-flash"}""";
        h.Sim.Enqueue(stream ? GeminiReply.Raw("data: " + Unexpected + "\r\n\r\n", "text/event-stream") : GeminiReply.Raw(NoCandidates));
        var request = TestGateway.Post("/v1/chat/completions", ChatBody(GoogleHarness.Model, stream), h.Headers(provider));
        var response = await h.Gw.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (stream)
        {
            await AssertChatStreamErrorAsync(response, provider);
        }
        else
        {
            await AssertOpenAiShaped502Async(response, provider, "neither candidates nor promptFeedback");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Claude_on_vertex_answering_something_else_than_a_message_is_a_502_or_a_stream_error(bool stream)
    {
        await using var sim = await AnthropicSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with
        {
            Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["vertex-ai"] = sim.Root.ToString() } },
        });
        sim.Enqueue(stream ? AnthropicReply.Raw("event: ping\ndata: " + Unexpected + "\n\n", "text/event-stream") : AnthropicReply.Raw(Unexpected));
        var request = TestGateway.Post("/v1/chat/completions", ChatBody("claude-sonnet-4-5", stream),
            ("x-portkey-provider", "vertex-ai"), ("Authorization", "Bearer ya29.token"),
            ("x-portkey-vertex-project-id", "proj-1"), ("x-portkey-vertex-region", "us-east5"));
        var response = await gw.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (stream)
        {
            await AssertChatStreamErrorAsync(response, "vertex-ai");
        }
        else
        {
            await AssertOpenAiShaped502Async(response, "vertex-ai", "no content array");
        }
        Assert.EndsWith(stream ? ":streamRawPredict" : ":rawPredict", Assert.Single(sim.Requests).Path);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Bedrock_answering_something_else_than_converse_is_a_502_or_a_stream_error(bool stream)
    {
        await using var h = await BedrockHarness.StartAsync();
        // Streamed, a JSON body is no AWS event stream at all; whole, a Converse answer needs output.message.
        h.Sim.Next(BedrockReply.Raw(stream ? Unexpected : """{"output":{},"stopReason":"end_turn","usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2}}"""));
        var request = TestGateway.Post("/v1/chat/completions", ChatBody(BedrockHarness.Model, stream), BedrockHarness.Headers());
        var response = await h.Gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (stream)
        {
            await AssertChatStreamErrorAsync(response, "bedrock");
        }
        else
        {
            await AssertOpenAiShaped502Async(response, "bedrock", "no output.message");
        }
    }

    private static (string, string)[] OpenAiHeaders(OpenAiSimulator sim) =>
        [("x-portkey-provider", "openai"), ("Authorization", "Bearer sk-client"), ("x-portkey-custom-host", sim.BaseUrl.ToString())];

    [Fact]
    public async Task An_openai_answer_without_choices_is_a_502_for_messages_and_responses_clients()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        const string NoChoices = """{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini"}""";

        sim.Enqueue(SimulatedFault.RawBody(NoChoices));
        var messages = await gw.SendAsync(TestGateway.Post("/v1/messages",
            """{"model":"gpt-4o-mini","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}""", OpenAiHeaders(sim)));
        var error = await messages.JsonAsync();
        Assert.True(messages.StatusCode == HttpStatusCode.BadGateway, error.ToString());
        // Anthropic clients get Anthropic's error shape.
        Assert.Equal("error", error.GetProperty("type").GetString());
        Assert.Equal("api_error", error.GetProperty("error").GetProperty("type").GetString());
        Assert.StartsWith("Invalid response received from openai: the chat completion has no choices", error.GetProperty("error").GetProperty("message").GetString());

        // Groq has no Responses API of its own, so /v1/responses goes through the OpenAI chat dialect too.
        sim.Enqueue(SimulatedFault.RawBody(NoChoices));
        var responses = await gw.SendAsync(TestGateway.Post("/v1/responses", """{"model":"llama-3.3-70b","input":"hi"}""",
            ("x-portkey-provider", "groq"), ("Authorization", "Bearer gsk-test"), ("x-portkey-custom-host", sim.BaseUrl.ToString())));
        Assert.EndsWith("/chat/completions", sim.Requests[^1].Path);
        await AssertOpenAiShaped502Async(responses, "groq", "no choices");
    }

    [Fact]
    public async Task An_openai_stream_of_events_that_are_not_chunks_ends_with_the_messages_and_responses_stream_errors()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        const string NotChunks = "data: " + Unexpected + "\n\ndata: [DONE]\n\n";

        sim.Enqueue(SimulatedFault.RawBody(NotChunks, "text/event-stream"));
        var messages = await gw.SendAsync(TestGateway.Post("/v1/messages",
            """{"model":"gpt-4o-mini","max_tokens":20,"stream":true,"messages":[{"role":"user","content":"hi"}]}""", OpenAiHeaders(sim)),
            HttpCompletionOption.ResponseHeadersRead);
        var (text, broken) = await ReadStreamAsync(messages);
        Assert.True(broken, text);
        Assert.DoesNotContain("message_stop", text);
        var lastEvent = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("event: error\n", lastEvent);
        var data = JsonDocument.Parse(lastEvent[(lastEvent.IndexOf("data: ", StringComparison.Ordinal) + 6)..]).RootElement;
        Assert.Equal("api_error", data.GetProperty("error").GetProperty("type").GetString());
        Assert.StartsWith("Invalid response received from openai: ", data.GetProperty("error").GetProperty("message").GetString());

        sim.Enqueue(SimulatedFault.RawBody(NotChunks, "text/event-stream"));
        var responses = await gw.SendAsync(TestGateway.Post("/v1/responses", """{"model":"llama-3.3-70b","stream":true,"input":"hi"}""",
            ("x-portkey-provider", "groq"), ("Authorization", "Bearer gsk-test"), ("x-portkey-custom-host", sim.BaseUrl.ToString())),
            HttpCompletionOption.ResponseHeadersRead);
        (text, broken) = await ReadStreamAsync(responses);
        Assert.True(broken, text);
        Assert.DoesNotContain("response.completed", text);
        lastEvent = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("event: error\n", lastEvent);
        data = JsonDocument.Parse(lastEvent[(lastEvent.IndexOf("data: ", StringComparison.Ordinal) + 6)..]).RootElement;
        Assert.Equal("upstream_stream_error", data.GetProperty("code").GetString());
        Assert.StartsWith("Invalid response received from groq: ", data.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_gemini_answer_without_candidates_is_a_502_in_anthropic_shape_for_a_messages_client()
    {
        await using var h = await GoogleHarness.StartAsync();
        h.Sim.Enqueue(GeminiReply.Raw(Unexpected));
        var response = await h.Gw.SendAsync(TestGateway.Post("/v1/messages",
            """{"model":"gemini-2.5-flash","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}""",
            ("x-portkey-provider", "google"), ("x-api-key", h.Sim.ApiKey), ("anthropic-version", "2023-06-01")));
        var error = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadGateway, error.ToString());
        Assert.Equal("error", error.GetProperty("type").GetString());
        Assert.Equal("api_error", error.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("Invalid response received from google: the answer has neither candidates nor promptFeedback ({\"unexpected\":true})",
            error.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_gemini_stream_without_candidates_ends_with_the_responses_stream_error()
    {
        await using var h = await GoogleHarness.StartAsync();
        h.Sim.Enqueue(GeminiReply.Raw("data: " + Unexpected + "\r\n\r\n", "text/event-stream"));
        var response = await h.Gw.SendAsync(TestGateway.Post("/v1/responses",
            """{"model":"gemini-2.5-flash","stream":true,"input":"hi"}""", h.Headers("google")), HttpCompletionOption.ResponseHeadersRead);
        var (text, broken) = await ReadStreamAsync(response);
        Assert.True(broken, text);
        Assert.DoesNotContain("response.completed", text);
        var lastEvent = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("event: error\n", lastEvent);
        var data = JsonDocument.Parse(lastEvent[(lastEvent.IndexOf("data: ", StringComparison.Ordinal) + 6)..]).RootElement;
        Assert.Equal("upstream_stream_error", data.GetProperty("code").GetString());
        Assert.StartsWith("Invalid response received from google: ", data.GetProperty("message").GetString());
    }
}
