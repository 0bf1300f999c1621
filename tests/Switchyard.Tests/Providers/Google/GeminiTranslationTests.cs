using System.Text;
using System.Text.Json.Nodes;
using Switchyard.Core.Providers.Google;
using Switchyard.Core.Translation;
using Xunit;

namespace Switchyard.Tests.Providers.Google;

/// <summary>Edge cases of the Gemini codec, without a network.</summary>
public sealed class GeminiTranslationTests
{
    private static JsonObject Build(string chatJson) => GeminiRequest.Build((JsonObject)JsonNode.Parse(chatJson)!);

    [Fact]
    public void Tool_message_for_an_unknown_call_id_is_refused()
    {
        var ex = Assert.Throws<TranslationException>(() => Build("""{"messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"nope","content":"1"}]}"""));
        Assert.Contains("nope", ex.Message);
    }

    [Fact]
    public void Only_system_messages_is_refused()
    {
        Assert.Throws<TranslationException>(() => Build("""{"messages":[{"role":"system","content":"x"}]}"""));
    }

    [Fact]
    public void Tool_without_parameters_has_no_parameters_and_empty_object_schemas_are_dropped()
    {
        var request = Build("""
            {"messages":[{"role":"user","content":"x"}],"tools":[
              {"type":"function","function":{"name":"now"}},
              {"type":"function","function":{"name":"ping","parameters":{"type":"object","properties":{}}}}]}
            """);
        Assert.Equal("""[{"functionDeclarations":[{"name":"now"},{"name":"ping"}]}]""", request["tools"]!.ToJsonString());
    }

    [Fact]
    public void Schema_sanitizer_rewrites_json_schema_into_the_openapi_subset()
    {
        var schema = (JsonObject)JsonNode.Parse("""
            {"type":"object","$schema":"x","additionalProperties":false,"title":"T",
             "properties":{
               "a":{"anyOf":[{"type":"string"},{"type":"null"}]},
               "b":{"oneOf":[{"type":"integer"},{"type":"string"}]},
               "c":{"type":"array","items":{"$ref":"#/definitions/item"}},
               "d":{"enum":[1,2]}},
             "definitions":{"item":{"type":"object","properties":{"n":{"type":"number","exclusiveMinimum":0}}}}}
            """)!;
        var clean = GeminiSchema.Sanitize(schema);
        Assert.Equal(
            """{"type":"object","title":"T","properties":{"a":{"type":"string","nullable":true},"b":{"anyOf":[{"type":"integer"},{"type":"string"}]},"c":{"type":"array","items":{"type":"object","properties":{"n":{"type":"number"}}}},"d":{"enum":["1","2"]}}}""",
            clean.ToJsonString());
    }

    [Fact]
    public void Self_referencing_schema_stops_at_the_depth_limit()
    {
        var schema = (JsonObject)JsonNode.Parse("""{"$defs":{"n":{"type":"object","properties":{"next":{"$ref":"#/$defs/n"}}}},"$ref":"#/$defs/n"}""")!;
        var clean = GeminiSchema.Sanitize(schema);
        Assert.Equal("object", clean["type"]!.GetValue<string>());
        Assert.True(clean.ToJsonString().Length < 20_000);
    }

    [Theory]
    [InlineData("https://x.test/a/photo.JPG", "image/jpeg")]
    [InlineData("gs://b/doc.pdf", "application/pdf")]
    [InlineData("https://x.test/clip.mp4#t=1", "video/mp4")]
    [InlineData("https://x.test/noext", "image/jpeg")]
    [InlineData("https://x.test/v1.2/file", "image/jpeg")]
    public void Mime_type_is_guessed_from_the_extension(string url, string mime) => Assert.Equal(mime, GeminiRequest.GuessMimeType(url));

    [Fact]
    public void Audio_and_file_parts_become_inline_and_file_data()
    {
        var request = Build("""
            {"messages":[{"role":"user","content":[
              {"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},
              {"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERg=="}},
              {"type":"file","file":{"file_id":"https://generativelanguage.googleapis.com/v1beta/files/abc","mime_type":"text/plain"}}]}]}
            """);
        Assert.Equal(
            """[{"inlineData":{"mimeType":"audio/wav","data":"UklGRg=="}},{"inlineData":{"mimeType":"application/pdf","data":"JVBERg=="}},{"fileData":{"mimeType":"text/plain","fileUri":"https://generativelanguage.googleapis.com/v1beta/files/abc"}}]""",
            request["contents"]![0]!["parts"]!.ToJsonString());
    }

    [Fact]
    public void Thinking_blocks_and_disabled_thinking_round_trip()
    {
        var request = Build("""
            {"thinking":{"type":"disabled"},"n":2,"stop":"END","logprobs":true,"top_logprobs":3,
             "messages":[{"role":"user","content":"x"},
               {"role":"assistant","content":"y","thinking_blocks":[{"type":"thinking","thinking":"hmm","signature":"s1"}]}]}
            """);
        Assert.Equal("""{"role":"model","parts":[{"text":"hmm","thought":true,"thoughtSignature":"s1"},{"text":"y"}]}""", request["contents"]![1]!.ToJsonString());
        Assert.Equal("""{"candidateCount":2,"responseLogprobs":true,"logprobs":3,"stopSequences":["END"],"thinkingConfig":{"thinkingBudget":0}}""", request["generationConfig"]!.ToJsonString());
    }

    [Fact]
    public void Several_candidates_become_several_choices_and_thought_signature_is_kept()
    {
        var body = """
            {"candidates":[
              {"content":{"role":"model","parts":[{"text":"a"},{"text":"b"}]},"finishReason":"STOP","index":0},
              {"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{"x":1}},"thoughtSignature":"sig"}]},"finishReason":"STOP","index":1},
              {"finishReason":"RECITATION","index":2}],
             "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":4,"thoughtsTokenCount":6,"toolUsePromptTokenCount":2,"totalTokenCount":22},
             "modelVersion":"gemini-2.5-pro","responseId":"r1"}
            """;
        var completion = GeminiResponse.ToChatCompletion(Encoding.UTF8.GetBytes(body), GeminiUnit.Call(GoogleHarness.Chat("x")));
        var choices = completion["choices"]!.AsArray();
        Assert.Equal(3, choices.Count);
        Assert.Equal("ab", choices[0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("tool_calls", choices[1]!["finish_reason"]!.GetValue<string>());
        Assert.Equal("sig", choices[1]!["message"]!["tool_calls"]![0]!["thought_signature"]!.GetValue<string>());
        Assert.Equal("content_filter", choices[2]!["finish_reason"]!.GetValue<string>());
        Assert.Equal("chatcmpl-r1", completion["id"]!.GetValue<string>());
        Assert.Equal("gemini-2.5-pro", completion["model"]!.GetValue<string>());
        Assert.Equal("""{"prompt_tokens":12,"completion_tokens":10,"total_tokens":22,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":6}}""", completion["usage"]!.ToJsonString());
    }

    [Fact]
    public void Thought_signature_from_a_response_goes_back_on_the_function_call_part()
    {
        var completion = GeminiResponse.ToChatCompletion(
            """{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{"x":1}},"thoughtSignature":"sig-9"}]},"finishReason":"STOP"}]}"""u8,
            GeminiUnit.Call(GoogleHarness.Chat("x")));
        var assistant = completion["choices"]![0]!["message"]!.DeepClone().AsObject();
        var id = assistant["tool_calls"]![0]!["id"]!.GetValue<string>();
        var next = new JsonObject
        {
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "user", ["content"] = "x" },
                assistant,
                new JsonObject { ["role"] = "tool", ["tool_call_id"] = id, ["content"] = "42" }),
        };
        var request = GeminiRequest.Build(next);
        Assert.Equal("""{"role":"model","parts":[{"functionCall":{"name":"f","args":{"x":1}},"thoughtSignature":"sig-9"}]}""", request["contents"]![1]!.ToJsonString());
        Assert.Equal("""{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"output":"42"}}}]}""", request["contents"]![2]!.ToJsonString());
    }

    [Fact]
    public void Stream_decoder_handles_events_split_anywhere_and_keeps_the_last_usage()
    {
        var sse = """
            data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4},"responseId":"x1","modelVersion":"m"}

            data: {"candidates":[{"content":{"role":"model","parts":[{"text":"lo"},{"functionCall":{"name":"a","args":{}}},{"functionCall":{"name":"b","args":{"k":"v"}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":3,"totalTokenCount":7}}


            """.Replace("\n", "\r\n");
        var bytes = Encoding.UTF8.GetBytes(sse);
        var call = GeminiUnit.Call(GoogleHarness.Chat("x", stream: true));
        for (var slice = 1; slice <= 7; slice += 3)
        {
            var decoder = new GeminiStreamDecoder(call);
            var chunks = new List<JsonObject>();
            for (var i = 0; i < bytes.Length; i += slice)
            {
                decoder.Feed(bytes.AsSpan(i, Math.Min(slice, bytes.Length - i)), chunks);
            }
            decoder.Finish(chunks);
            Assert.Equal(4, chunks.Count);
            Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
            Assert.Equal("Hel", chunks[0]["choices"]![0]!["delta"]!["content"]!.GetValue<string>());
            var calls = chunks[1]["choices"]![0]!["delta"]!["tool_calls"]!.AsArray();
            Assert.Equal(0, calls[0]!["index"]!.GetValue<int>());
            Assert.Equal(1, calls[1]!["index"]!.GetValue<int>());
            Assert.Equal("{\"k\":\"v\"}", calls[1]!["function"]!["arguments"]!.GetValue<string>());
            Assert.Equal("tool_calls", chunks[2]["choices"]![0]!["finish_reason"]!.GetValue<string>());
            Assert.Equal(7L, chunks[3]["usage"]!["total_tokens"]!.GetValue<long>());
            Assert.All(chunks, c => Assert.Equal("chatcmpl-x1", c["id"]!.GetValue<string>()));
        }
    }

    [Fact]
    public void Stream_error_event_raises_a_translation_error()
    {
        var decoder = new GeminiStreamDecoder(GeminiUnit.Call(GoogleHarness.Chat("x", stream: true)));
        var ex = Assert.Throws<TranslationException>(() => decoder.Feed("data: {\"error\":{\"code\":500,\"message\":\"boom\",\"status\":\"INTERNAL\"}}\n\n"u8, []));
        Assert.Contains("boom", ex.Message);
        Assert.Equal(502, ex.Status);
    }

    [Fact]
    public void Errors_are_read_from_objects_arrays_and_text()
    {
        Assert.Equal(new ProviderError("bad", "INVALID_ARGUMENT", "INVALID_ARGUMENT"), GeminiResponse.ReadError(400, """{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}"""u8));
        Assert.Equal(new ProviderError("busy", "UNAVAILABLE", "UNAVAILABLE"), GeminiResponse.ReadError(503, """[{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}]"""u8));
        Assert.Equal("Bad Gateway", GeminiResponse.ReadError(502, "Bad Gateway"u8).Message);
    }

    [Theory]
    [InlineData("us-central1", "https://{region}-aiplatform.googleapis.com", "https://us-central1-aiplatform.googleapis.com")]
    [InlineData("global", "https://{region}-aiplatform.googleapis.com", "https://aiplatform.googleapis.com")]
    [InlineData("europe-west4", "http://127.0.0.1:9/%7Bregion%7D/%7Bproject%7D", "http://127.0.0.1:9/europe-west4/p1")]
    public void Vertex_base_url_template_is_filled_in(string region, string template, string expected)
    {
        var call = GeminiUnit.Call(GoogleHarness.Chat("x"), "vertex-ai", new Dictionary<string, string> { ["vertex_region"] = region, ["vertex_project_id"] = "p1" }, template);
        Assert.Equal(expected, VertexAdapter.BaseUrl(call));
        Assert.Equal($"{expected}/v1/projects/p1/locations/{region}/publishers/google/models/gemini-2.5-pro:generateContent",
            VertexAdapter.ModelUrl(call, "google", "gemini-2.5-pro", "generateContent"));
    }

    [Theory]
    [InlineData("claude-sonnet-4-5@20250929", true)]
    [InlineData("anthropic.claude-3-haiku", true)]
    [InlineData("gemini-2.5-pro", false)]
    public void Anthropic_models_are_recognised_for_the_vertex_hook(string model, bool anthropic) => Assert.Equal(anthropic, VertexAdapter.IsAnthropicModel(model));

    [Fact]
    public async Task Vertex_hook_receives_anthropic_models_when_wired()
    {
        var fake = new RecordingDialect();
        var adapter = new VertexAdapter(anthropicOnVertex: v => fake);
        var body = GoogleHarness.Chat("x");
        body["model"] = "claude-opus-4-1";
        var call = GeminiUnit.Call(body, "vertex-ai", new Dictionary<string, string> { ["vertex_project_id"] = "p" });
        using var request = await adapter.CreateRequestAsync(call, CancellationToken.None);
        Assert.Equal("https://hook.test/", request.RequestUri!.ToString());
        Assert.Equal("from-hook", adapter.ReadError(400, "{}"u8, call).Message);
    }

    private sealed class RecordingDialect : IChatDialect
    {
        public ValueTask<HttpRequestMessage> CreateRequestAsync(ChatCall call, CancellationToken ct) => ValueTask.FromResult(new HttpRequestMessage(HttpMethod.Post, "https://hook.test/"));

        public JsonObject ToChatCompletion(ReadOnlySpan<byte> body, ChatCall call) => [];

        public IChatStreamDecoder CreateStreamDecoder(ChatCall call) => throw new NotSupportedException();

        public ProviderError ReadError(int status, ReadOnlySpan<byte> body, ChatCall call) => new("from-hook");
    }
}
