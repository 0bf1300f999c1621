using System.Net;
using System.Text.Json.Nodes;
using Switchyard.Simulators.Anthropic;
using Switchyard.Simulators.Google;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Providers.Anthropic;
using Switchyard.Tests.Providers.Bedrock;
using Switchyard.Tests.Providers.Google;
using Xunit;

namespace Switchyard.Tests.Translation;

/// <summary>
/// <c>strict_open_ai_compliance: false</c> (config) or <c>x-portkey-strict-open-ai-compliance: false</c> (header): chat
/// answers carry the provider's own finish reason and Portkey's <c>content_blocks</c> (thinking with signatures), and an
/// assistant turn sent back with its content_blocks reaches the provider as the same thinking blocks. Strict (the default)
/// keeps mapped finish reasons and no content_blocks.
/// </summary>
public sealed class StrictComplianceTests
{
    private static readonly (string, string) NotStrict = ("x-portkey-strict-open-ai-compliance", "false");

    private static JsonObject Thinking(JsonObject body)
    {
        body["thinking"] = JsonNode.Parse("""{"type":"enabled","budget_tokens":1024}""");
        body["max_tokens"] = 2048;
        return body;
    }

    private static async Task<JsonObject> OkAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return (JsonObject)JsonNode.Parse(text)!;
    }

    private static async Task<List<JsonObject>> ChunksAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        var (chunks, done) = AnthropicHarness.ParseSse(text);
        Assert.True(done, text);
        return chunks;
    }

    private static IEnumerable<JsonObject> Deltas(List<JsonObject> chunks) =>
        chunks.Where(c => c["choices"] is JsonArray { Count: > 0 }).Select(c => (JsonObject)c["choices"]![0]!["delta"]!);

    private static string? FinishReason(List<JsonObject> chunks) =>
        chunks.Where(c => c["choices"] is JsonArray { Count: > 0 } a && a[0]!["finish_reason"] is JsonValue)
            .Select(c => c["choices"]![0]!["finish_reason"]!.GetValue<string>()).Single();

    /// <summary>Rebuilds whole blocks from stream content_blocks deltas the way a client would: by index, strings concatenated.</summary>
    private static JsonArray Rebuild(List<JsonObject> chunks, Func<JsonObject, string> typeOf)
    {
        var blocks = new SortedDictionary<int, JsonObject>();
        foreach (var entry in Deltas(chunks).SelectMany(d => d["content_blocks"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var index = entry["index"]!.GetValue<int>();
            if (!blocks.TryGetValue(index, out var block))
            {
                blocks[index] = block = [];
            }
            foreach (var (key, value) in (JsonObject)entry["delta"]!)
            {
                block[key] = (block[key]?.GetValue<string>() ?? "") + value!.GetValue<string>();
            }
        }
        var result = new JsonArray();
        foreach (var block in blocks.Values)
        {
            var typed = new JsonObject { ["type"] = typeOf(block) };
            foreach (var (key, value) in block)
            {
                typed[key] = value!.DeepClone();
            }
            result.Add((JsonNode)typed);
        }
        return result;
    }

    private static string AnthropicType(JsonObject block) =>
        block.ContainsKey("thinking") || block.ContainsKey("signature") ? "thinking" : block.ContainsKey("data") ? "redacted_thinking" : "text";

    private static string Signature(string thought) =>
        "sig_" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(thought)))[..24];

    [Fact]
    public async Task Anthropic_strict_answers_keep_mapped_finish_reasons_and_no_content_blocks()
    {
        await using var h = await AnthropicHarness.StartAsync();
        var completion = await OkAsync(await h.ChatAsync(Thinking(AnthropicHarness.Chat(AnthropicHarness.User("why?")))));
        var choice = completion["choices"]![0]!;
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
        Assert.False(((JsonObject)choice["message"]!).ContainsKey("content_blocks"));

        var body = Thinking(AnthropicHarness.Chat(AnthropicHarness.User("why?")));
        body["stream"] = true;
        var chunks = await ChunksAsync(await h.ChatAsync(body, HttpCompletionOption.ResponseHeadersRead));
        Assert.Equal("stop", FinishReason(chunks));
        Assert.DoesNotContain(Deltas(chunks), d => d.ContainsKey("content_blocks"));
    }

    [Fact]
    public async Task Anthropic_non_strict_answers_carry_native_finish_reasons_and_content_blocks_with_signatures()
    {
        await using var h = await AnthropicHarness.StartAsync();
        const string Thought = "Thinking about: why?";
        h.Sim.Enqueue(new AnthropicReply { RedactedThinking = "EncryptedBlob==" });
        var request = TestGateway.Post("/v1/chat/completions", Thinking(AnthropicHarness.Chat(AnthropicHarness.User("why?"))).ToJsonString(), [.. AnthropicHarness.Headers, NotStrict]);
        var completion = await OkAsync(await h.Gateway.SendAsync(request));
        var choice = completion["choices"]![0]!;
        Assert.Equal("end_turn", choice["finish_reason"]!.GetValue<string>());
        JsonAssert.Equal($$"""
            [{"type":"thinking","thinking":"{{Thought}}","signature":"{{Signature(Thought)}}"},
             {"type":"redacted_thinking","data":"EncryptedBlob=="},
             {"type":"text","text":"echo: why?"}]
            """, choice["message"]!["content_blocks"]);
        Assert.Equal("echo: why?", choice["message"]!["content"]!.GetValue<string>());

        // The same switch in the target's config.
        var config = $$"""{"provider":"anthropic","api_key":"{{AnthropicHarness.Key}}","strict_open_ai_compliance":false}""";
        var viaConfig = await OkAsync(await h.Gateway.SendAsync(TestGateway.Post("/v1/chat/completions",
            Thinking(AnthropicHarness.Chat(AnthropicHarness.User("why?"))).ToJsonString(), ("x-portkey-config", config))));
        Assert.Equal("end_turn", viaConfig["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(2, viaConfig["choices"]![0]!["message"]!["content_blocks"]!.AsArray().Count);
    }

    [Fact]
    public async Task Anthropic_non_strict_streams_carry_content_blocks_deltas_by_block_index()
    {
        await using var h = await AnthropicHarness.StartAsync();
        const string Thought = "Thinking about: why not?";
        var body = Thinking(AnthropicHarness.Chat(AnthropicHarness.User("why not?")));
        body["stream"] = true;
        var chunks = await ChunksAsync(await h.Gateway.SendAsync(
            TestGateway.Post("/v1/chat/completions", body.ToJsonString(), [.. AnthropicHarness.Headers, NotStrict]), HttpCompletionOption.ResponseHeadersRead));

        Assert.Equal("end_turn", FinishReason(chunks));
        var entries = Deltas(chunks).SelectMany(d => d["content_blocks"] as JsonArray ?? []).ToList();
        // Portkey's shape: the Anthropic event's payload without its type, under the block's index.
        JsonAssert.Equal("""{"index":0,"delta":{"thinking":""}}""", entries[0]);
        Assert.Contains(entries, e => JsonNode.DeepEquals(e, JsonNode.Parse($$$"""{"index":0,"delta":{"signature":"{{{Signature(Thought)}}}"}}""")));
        Assert.All(Deltas(chunks).Where(d => d["tool_calls"] is not null), d => Assert.False(d.ContainsKey("content_blocks")));
        JsonAssert.Equal($$"""
            [{"type":"thinking","thinking":"{{Thought}}","signature":"{{Signature(Thought)}}"},{"type":"text","text":"echo: why not?"}]
            """, Rebuild(chunks, AnthropicType));
        // The OpenAI fields are still there.
        Assert.Equal("echo: why not?", string.Concat(Deltas(chunks).Select(d => d["content"]?.GetValue<string>())));
        Assert.Equal(Thought, string.Concat(Deltas(chunks).Select(d => d["reasoning_content"]?.GetValue<string>())));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Anthropic_two_turns_send_the_thinking_blocks_back_with_their_signatures(bool stream)
    {
        await using var h = await AnthropicHarness.StartAsync();
        var first = Thinking(AnthropicHarness.Chat(AnthropicHarness.User("first question")));
        first["stream"] = stream;
        var turn1 = TestGateway.Post("/v1/chat/completions", first.ToJsonString(), [.. AnthropicHarness.Headers, NotStrict]);
        JsonObject assistant;
        if (stream)
        {
            var chunks = await ChunksAsync(await h.Gateway.SendAsync(turn1, HttpCompletionOption.ResponseHeadersRead));
            assistant = new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = string.Concat(Deltas(chunks).Select(d => d["content"]?.GetValue<string>())),
                ["content_blocks"] = Rebuild(chunks, AnthropicType),
            };
        }
        else
        {
            var message = (JsonObject)(await OkAsync(await h.Gateway.SendAsync(turn1)))["choices"]![0]!["message"]!;
            // What an OpenAI-style client keeps of the message: role, content and the content_blocks extension.
            assistant = new JsonObject { ["role"] = "assistant", ["content"] = message["content"]!.DeepClone(), ["content_blocks"] = message["content_blocks"]!.DeepClone() };
        }

        var second = Thinking(AnthropicHarness.Chat(AnthropicHarness.User("first question"), assistant, AnthropicHarness.User("and then?")));
        var answer = await OkAsync(await h.Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", second.ToJsonString(), [.. AnthropicHarness.Headers, NotStrict])));
        Assert.Equal("echo: and then?", answer["choices"]![0]!["message"]!["content"]!.GetValue<string>());

        // The simulator refuses a thinking block whose signature it did not issue, so a 200 already proves the round trip.
        const string Thought = "Thinking about: first question";
        JsonAssert.Equal($$"""
            {"role":"assistant","content":[{"type":"thinking","thinking":"{{Thought}}","signature":"{{Signature(Thought)}}"},{"type":"text","text":"echo: first question"}]}
            """, h.Sim.LastBody["messages"]![1]);
    }

    [Fact]
    public async Task Claude_on_vertex_two_turns_send_the_thinking_blocks_back_with_their_signatures()
    {
        await using var sim = await AnthropicSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with
        {
            Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["vertex-ai"] = sim.Root.ToString() } },
        });
        (string, string)[] headers =
        [
            ("x-portkey-provider", "vertex-ai"), ("Authorization", "Bearer ya29.token"),
            ("x-portkey-vertex-project-id", "proj-1"), ("x-portkey-vertex-region", "us-east5"), NotStrict,
        ];
        var first = await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions",
            Thinking(AnthropicHarness.Chat(AnthropicHarness.User("vertex question"))).ToJsonString(), headers)));
        var choice = first["choices"]![0]!;
        Assert.Equal("end_turn", choice["finish_reason"]!.GetValue<string>());
        var assistant = new JsonObject { ["role"] = "assistant", ["content"] = choice["message"]!["content"]!.DeepClone(), ["content_blocks"] = choice["message"]!["content_blocks"]!.DeepClone() };

        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions",
            Thinking(AnthropicHarness.Chat(AnthropicHarness.User("vertex question"), assistant, AnthropicHarness.User("more"))).ToJsonString(), headers)));
        const string Thought = "Thinking about: vertex question";
        Assert.EndsWith(":rawPredict", sim.Requests[^1].Path);
        JsonAssert.Equal($$"""
            {"role":"assistant","content":[{"type":"thinking","thinking":"{{Thought}}","signature":"{{Signature(Thought)}}"},{"type":"text","text":"echo: vertex question"}]}
            """, sim.LastBody["messages"]![1]);
    }

    [Fact]
    public async Task Bedrock_strict_and_non_strict_answers_and_a_two_turn_round_trip_of_reasoning_with_its_signature()
    {
        await using var h = await BedrockHarness.StartAsync();
        var body = Thinking(new JsonObject
        {
            ["model"] = BedrockHarness.Model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
        });

        var strict = await OkAsync(await h.ChatAsync(body.ToJsonString()));
        Assert.Equal("stop", strict["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.False(((JsonObject)strict["choices"]![0]!["message"]!).ContainsKey("content_blocks"));

        var loose = await OkAsync(await h.ChatAsync(body.ToJsonString(), BedrockHarness.Headers(NotStrict)));
        var choice = loose["choices"]![0]!;
        Assert.Equal("end_turn", choice["finish_reason"]!.GetValue<string>());
        JsonAssert.Equal("""
            [{"type":"thinking","thinking":"Let me think about this.","signature":"sig-sim-1"},{"type":"text","text":"echo: hi"}]
            """, choice["message"]!["content_blocks"]);

        var streamed = (JsonObject)body.DeepClone();
        streamed["stream"] = true;
        var chunks = await ChunksAsync(await h.Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", streamed.ToJsonString(), BedrockHarness.Headers(NotStrict)),
            HttpCompletionOption.ResponseHeadersRead));
        Assert.Equal("end_turn", FinishReason(chunks));
        Assert.Contains(Deltas(chunks).SelectMany(d => d["content_blocks"] as JsonArray ?? []),
            e => JsonNode.DeepEquals(e, JsonNode.Parse("""{"index":0,"delta":{"signature":"sig-sim-1"}}""")));
        var rebuilt = Rebuild(chunks, AnthropicType);
        JsonAssert.Equal(choice["message"]!["content_blocks"]!.ToJsonString(), rebuilt);

        var strictChunks = await ChunksAsync(await h.Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", streamed.ToJsonString(), BedrockHarness.Headers()),
            HttpCompletionOption.ResponseHeadersRead));
        Assert.Equal("stop", FinishReason(strictChunks));
        Assert.DoesNotContain(Deltas(strictChunks), d => d.ContainsKey("content_blocks"));

        var second = (JsonObject)body.DeepClone();
        second["messages"]!.AsArray().Add((JsonNode)new JsonObject { ["role"] = "assistant", ["content"] = "echo: hi", ["content_blocks"] = rebuilt });
        second["messages"]!.AsArray().Add((JsonNode)new JsonObject { ["role"] = "user", ["content"] = "again" });
        await OkAsync(await h.ChatAsync(second.ToJsonString(), BedrockHarness.Headers(NotStrict)));
        JsonAssert.Equal("""
            {"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"Let me think about this.","signature":"sig-sim-1"}}},{"text":"echo: hi"}]}
            """, JsonNode.Parse(h.Sim.Requests[^1].Body)!["messages"]![1]);
    }

    [Theory]
    [InlineData("google")]
    [InlineData("vertex-ai")]
    public async Task Gemini_non_strict_answers_carry_native_reasons_content_blocks_and_function_thought_signatures(string provider)
    {
        await using var h = await GoogleHarness.StartAsync();
        var request = Thinking(GoogleHarness.Chat("weather?"));
        request["tools"] = JsonNode.Parse("""[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""");

        h.Sim.Enqueue(GeminiReply.Call("get_weather", """{"city":"Paris"}""", "gem-sig-1"));
        var strict = await OkAsync(await h.ChatAsync(provider, request));
        var strictChoice = strict["choices"]![0]!;
        Assert.Equal("tool_calls", strictChoice["finish_reason"]!.GetValue<string>());
        Assert.False(((JsonObject)strictChoice["message"]!).ContainsKey("content_blocks"));
        Assert.Null(strictChoice["message"]!["tool_calls"]![0]!["function"]!["thought_signature"]);

        h.Sim.Enqueue(GeminiReply.Call("get_weather", """{"city":"Paris"}""", "gem-sig-1"));
        var loose = await OkAsync(await h.Gw.SendAsync(TestGateway.Post("/v1/chat/completions", request.ToJsonString(), [.. h.Headers(provider), NotStrict])));
        var choice = loose["choices"]![0]!;
        Assert.Equal("STOP", choice["finish_reason"]!.GetValue<string>());
        var call = choice["message"]!["tool_calls"]![0]!;
        Assert.Equal("gem-sig-1", call["function"]!["thought_signature"]!.GetValue<string>());
        JsonAssert.Equal("""[{"type":"thinking","thinking":"Thinking about: weather?"}]""", choice["message"]!["content_blocks"]);

        // Turn two, as a Portkey client sends it: the signature only inside function.
        var assistant = new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = null,
            ["tool_calls"] = new JsonArray(new JsonObject
            {
                ["id"] = call["id"]!.DeepClone(),
                ["type"] = "function",
                ["function"] = call["function"]!.DeepClone(),
            }),
        };
        var second = (JsonObject)request.DeepClone();
        second["messages"]!.AsArray().Add((JsonNode)assistant);
        second["messages"]!.AsArray().Add((JsonNode)new JsonObject { ["role"] = "tool", ["tool_call_id"] = call["id"]!.DeepClone(), ["content"] = "sunny" });
        await OkAsync(await h.Gw.SendAsync(TestGateway.Post("/v1/chat/completions", second.ToJsonString(), [.. h.Headers(provider), NotStrict])));
        var contents = GoogleHarness.BodyOf(h.Sim.ModelRequests[^1])["contents"]!.AsArray();
        JsonAssert.Equal("""{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"gem-sig-1"}""", contents[1]!["parts"]![0]);
    }

    [Fact]
    public async Task Gemini_non_strict_streams_carry_content_blocks_and_the_native_finish_reason()
    {
        await using var h = await GoogleHarness.StartAsync();
        var request = Thinking(GoogleHarness.Chat("tell me", stream: true));
        var response = await h.Gw.SendAsync(TestGateway.Post("/v1/chat/completions", request.ToJsonString(), [.. h.Headers("google"), NotStrict]),
            HttpCompletionOption.ResponseHeadersRead);
        var chunks = await ChunksAsync(response);
        Assert.Equal("STOP", FinishReason(chunks));
        var entries = Deltas(chunks).SelectMany(d => d["content_blocks"] as JsonArray ?? []).ToList();
        JsonAssert.Equal("""{"index":0,"delta":{"thinking":"Thinking about: tell me"}}""", entries[0]);
        Assert.All(entries.Skip(1), e => Assert.Equal(1, e!["index"]!.GetValue<int>()));
        Assert.Equal("echo: tell me", string.Concat(entries.Skip(1).Select(e => e!["delta"]!["text"]!.GetValue<string>())));

        var strict = await ChunksAsync(await h.Gw.SendAsync(TestGateway.Post("/v1/chat/completions", request.ToJsonString(), h.Headers("google")),
            HttpCompletionOption.ResponseHeadersRead));
        Assert.Equal("stop", FinishReason(strict));
        Assert.DoesNotContain(Deltas(strict), d => d.ContainsKey("content_blocks"));
    }
}
