using System.Text;
using System.Text.Json.Nodes;
using Switchyard.Core.Providers.Bedrock;
using Switchyard.Core.Translation;
using Switchyard.Simulators.Bedrock;
using Xunit;

namespace Switchyard.Tests.Providers.Bedrock;

/// <summary>The SigV4 signer against AWS's published examples, and translation edge cases.</summary>
public sealed class BedrockUnitTests
{
    private static readonly AwsCredentials Example = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

    [Fact]
    public void SigV4_matches_the_aws_documentation_post_example()
    {
        // AWS General Reference, "Signed Signature Version 4 Requests Examples": IAM ListUsers as a POST, 20110909T233600Z.
        var auth = SigV4.Authorization("POST", new Uri("https://iam.amazonaws.com/"),
            [("host", "iam.amazonaws.com"), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("X-Amz-Date", "20110909T233600Z")],
            "Action=ListUsers&Version=2010-05-08"u8, Example, "us-east-1", "iam", "20110909T233600Z");
        Assert.Equal("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
            + "Signature=ced6826de92d2bdeed8f846f0bf508e8559e98e4b0199114b84c54174deb456c", auth);
    }

    [Fact]
    public void SigV4_matches_the_aws_documentation_get_example()
    {
        // AWS SigV4 signing guide: GET IAM ListUsers with the query in the URL, 20150830T123600Z.
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08")
        {
            Content = new ByteArrayContent([]),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
        SigV4.Sign(request, [], Example, "us-east-1", "iam", new DateTimeOffset(2015, 8, 30, 12, 36, 0, TimeSpan.Zero));
        Assert.Equal("20150830T123600Z", request.Headers.GetValues("x-amz-date").Single());
        Assert.Equal("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
            + "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", request.Headers.GetValues("Authorization").Single());
        Assert.Equal("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
            SigV4.Hex(SigV4.SigningKey(Example.SecretAccessKey, "20150830", "us-east-1", "iam")));
    }

    [Fact]
    public void Canonical_path_encodes_an_escaped_model_id_again()
    {
        Assert.Equal("/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse",
            SigV4.CanonicalPath(new Uri("https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse").AbsolutePath));
        Assert.Equal("/", SigV4.CanonicalPath(""));
    }

    private static JsonObject Build(string json, string model = "anthropic.claude-3-haiku-20240307-v1:0") =>
        BedrockRequest.Build((JsonObject)JsonNode.Parse(json)!, model);

    [Fact]
    public void A_tool_result_and_a_following_user_message_merge_into_one_user_turn()
    {
        var body = Build("""
            {"messages":[{"role":"user","content":"q"},
              {"role":"assistant","content":"let me look","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},
              {"role":"tool","tool_call_id":"t1","content":"result"},{"role":"user","content":"thanks"}],
             "tools":[{"type":"function","function":{"name":"f"}}]}
            """);
        var messages = (JsonArray)body["messages"]!;
        Assert.Equal(3, messages.Count);
        var assistant = (JsonArray)messages[1]!["content"]!;
        Assert.Equal("let me look", assistant[0]!["text"]!.GetValue<string>());
        Assert.Equal(1, assistant[1]!["toolUse"]!["input"]!["a"]!.GetValue<int>());
        var user = (JsonArray)messages[2]!["content"]!;
        Assert.Equal("t1", user[0]!["toolResult"]!["toolUseId"]!.GetValue<string>());
        Assert.Equal("thanks", user[1]!["text"]!.GetValue<string>());
        // A tool without parameters gets an empty object schema.
        Assert.Equal("object", body["toolConfig"]!["tools"]![0]!["toolSpec"]!["inputSchema"]!["json"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void Tool_choice_none_drops_the_tools_unless_the_conversation_already_uses_them()
    {
        var plain = Build("""{"messages":[{"role":"user","content":"q"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"}""");
        Assert.False(plain.ContainsKey("toolConfig"));
        var named = Build("""{"messages":[{"role":"user","content":"q"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"f"}}}""");
        Assert.Equal("f", named["toolConfig"]!["toolChoice"]!["tool"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void Image_formats_come_from_the_data_uri_and_unsupported_ones_are_refused()
    {
        var body = Build("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,AAAA"}}]}]}""");
        Assert.Equal("jpeg", body["messages"]![0]!["content"]![0]!["image"]!["format"]!.GetValue<string>());
        var ex = Assert.Throws<TranslationException>(() => Build("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AAAA"}}]}]}"""));
        Assert.Contains("image/bmp", ex.Message);
    }

    [Fact]
    public void Thinking_is_only_sent_to_anthropic_models_and_cache_control_on_a_message_adds_a_cache_point()
    {
        const string json = """{"messages":[{"role":"user","content":"long context","cache_control":{"type":"ephemeral"}}],"thinking":{"type":"enabled","budget_tokens":2000}}""";
        Assert.False(Build(json, "amazon.nova-pro-v1:0").ContainsKey("additionalModelRequestFields"));
        var claude = Build(json);
        Assert.Equal(2000, claude["additionalModelRequestFields"]!["thinking"]!["budget_tokens"]!.GetValue<int>());
        var content = (JsonArray)claude["messages"]![0]!["content"]!;
        Assert.Equal("default", content[1]!["cachePoint"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void Usage_counts_cache_reads_and_writes_in_the_prompt()
    {
        var usage = BedrockChatDialect.Usage((JsonObject)JsonNode.Parse("""{"inputTokens":10,"outputTokens":4,"totalTokens":34,"cacheReadInputTokens":15,"cacheWriteInputTokens":5}""")!);
        Assert.Equal(30, usage["prompt_tokens"]!.GetValue<long>());
        Assert.Equal(34, usage["total_tokens"]!.GetValue<long>());
        Assert.Equal(15, usage["prompt_tokens_details"]!["cached_tokens"]!.GetValue<long>());
        Assert.Equal(15, usage["cache_read_input_tokens"]!.GetValue<long>());
        Assert.Equal(5, usage["cache_creation_input_tokens"]!.GetValue<long>());
        var none = BedrockChatDialect.Usage((JsonObject)JsonNode.Parse("""{"inputTokens":1,"outputTokens":2}""")!);
        Assert.False(none.ContainsKey("cache_read_input_tokens"));
    }

    [Fact]
    public void Stream_decoder_handles_frames_split_at_every_byte()
    {
        var frames = new List<byte[]>
        {
            EventStreamWriter.Event("messageStart", """{"role":"assistant"}"""),
            EventStreamWriter.Event("contentBlockStart", """{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"tu1","name":"f"}}}"""),
            EventStreamWriter.Event("contentBlockDelta", """{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"a\":"}}}"""),
            EventStreamWriter.Event("contentBlockDelta", """{"contentBlockIndex":0,"delta":{"toolUse":{"input":"1}"}}}"""),
            EventStreamWriter.Event("contentBlockStop", """{"contentBlockIndex":0}"""),
            EventStreamWriter.Event("messageStop", """{"stopReason":"tool_use"}"""),
            EventStreamWriter.Event("metadata", """{"usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5},"metrics":{"latencyMs":1}}"""),
        };
        var bytes = frames.SelectMany(f => f).ToArray();
        var dialect = new BedrockAdapter().Chat!;
        var decoder = dialect.CreateStreamDecoder(Call("""{"model":"m","stream":true,"messages":[]}"""));
        var chunks = new List<JsonObject>();
        foreach (var b in bytes)
        {
            decoder.Feed([b], chunks);
        }
        decoder.Finish(chunks);
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.Equal("tu1", chunks[1]["choices"]![0]!["delta"]!["tool_calls"]![0]!["id"]!.GetValue<string>());
        Assert.Equal("{\"a\":", chunks[2]["choices"]![0]!["delta"]!["tool_calls"]![0]!["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal("1}", chunks[3]["choices"]![0]!["delta"]!["tool_calls"]![0]!["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal("tool_calls", chunks[4]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(5, chunks[5]["usage"]!["total_tokens"]!.GetValue<long>());
        Assert.Equal(6, chunks.Count);
    }

    [Fact]
    public void Stream_decoder_refuses_a_stream_cut_before_message_stop()
    {
        var decoder = new BedrockAdapter().Chat!.CreateStreamDecoder(Call("""{"model":"m","stream":true,"messages":[]}"""));
        var chunks = new List<JsonObject>();
        var frame = EventStreamWriter.Event("messageStart", """{"role":"assistant"}""");
        decoder.Feed(frame, chunks);
        decoder.Feed(EventStreamWriter.Event("contentBlockDelta", """{"contentBlockIndex":0,"delta":{"text":"hi"}}""").AsSpan(0, 10), chunks);
        var ex = Assert.Throws<TranslationException>(() => decoder.Finish(chunks));
        Assert.Contains("inside a frame", ex.Message);
        Assert.Equal(502, ex.Status);
    }

    [Fact]
    public void Errors_read_the_type_from_the_body_or_the_status()
    {
        var dialect = new BedrockAdapter().Chat!;
        var call = Call("""{"model":"m","messages":[]}""");
        var upper = dialect.ReadError(503, Encoding.UTF8.GetBytes("""{"Message":"Bedrock is unable to process your request."}"""), call);
        Assert.Equal("Bedrock is unable to process your request.", upper.Message);
        Assert.Equal("ServiceUnavailableException", upper.Code);
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("x-amzn-ErrorType", "ModelNotReadyException:http://internal.amazon.com/coral/com.amazon.bedrock/");
        var fromHeader = dialect.ReadError(429, Encoding.UTF8.GetBytes("""{"message":"Model is not ready"}"""), response.Headers, call);
        Assert.Equal("ModelNotReadyException", fromHeader.Type);
        var text = dialect.ReadError(500, Encoding.UTF8.GetBytes("oops"), call);
        Assert.Equal("oops", text.Message);
    }

    private static ChatCall Call(string body) => new()
    {
        Request = new Switchyard.Core.Requests.GatewayRequest
        {
            Method = "POST",
            Endpoint = Switchyard.Core.Requests.EndpointKind.ChatComplete,
            Path = "/v1/chat/completions",
            UpstreamPath = "/chat/completions",
            Headers = new Switchyard.Core.Requests.HeaderBag(),
        },
        Target = new Switchyard.Core.Providers.ResolvedTarget
        {
            Provider = Switchyard.Core.Providers.ProviderCatalog.Translated.Single(p => p.Slug == "bedrock"),
            BaseUrl = "http://127.0.0.1:1/{region}",
            Settings = new Switchyard.Core.Configs.TargetSettings(),
            ProviderFields = new Dictionary<string, string>(),
        },
        Body = (JsonObject)JsonNode.Parse(body)!,
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
    };
}
