using System.Text.Json.Nodes;
using Switchyard.Core.Guardrails;
using Switchyard.Core.Requests;
using Xunit;
using static Switchyard.Tests.Guardrails.GuardrailKit;

namespace Switchyard.Tests.Guardrails;

public sealed class HookContextTests
{
    [Fact]
    public void Chat_current_part_is_the_last_message_with_one_text_per_part()
    {
        var ctx = Context("""
            {"model":"m","messages":[{"role":"user","content":"first"},
              {"role":"user","content":[{"type":"text","text":"hello"},{"type":"image_url","image_url":{"url":"http://x/y.png"}},{"type":"text","text":"world"}]}]}
            """);
        var part = ctx.GetContentPart(HookEvent.BeforeRequest);
        Assert.Equal(["hello", "", "world"], part.Texts);
        Assert.Equal("hello\nworld", ctx.GetText(HookEvent.BeforeRequest));
        // Portkey's request.text joins every part, so the image part leaves an empty line; getText skips it.
        Assert.Equal("hello\n\nworld", ctx.RequestText);
        Assert.IsType<JsonArray>(part.Content);
    }

    [Fact]
    public void Writing_texts_replaces_only_text_parts_and_keeps_the_original_body()
    {
        var ctx = Context("""
            {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"u"}},{"type":"text","text":"b"}]}]}
            """);
        var body = ctx.WithTexts(HookEvent.BeforeRequest, ["A", "IGNORED", null]);
        var parts = (JsonArray)body!["messages"]![0]!["content"]!;
        Assert.Equal("A", Str(parts[0]!["text"]));
        Assert.Null(parts[1]!["text"]);
        Assert.Equal("b", Str(parts[2]!["text"]));
        Assert.Equal("a", Str(ctx.RequestJson["messages"]![0]!["content"]![0]!["text"]));
    }

    [Fact]
    public void Anthropic_messages_request_and_response_texts()
    {
        var ctx = Context("""
            {"model":"claude","system":"be nice","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"hi there"}]}]}
            """, "messages");
        Assert.Equal("hi there", ctx.GetText(HookEvent.BeforeRequest));
        Assert.Equal(["be nice", "hi there"], ctx.GetContentPart(HookEvent.BeforeRequest, TextScope.All).Texts);
        ctx.SetResponse((JsonObject)JsonNode.Parse("""
            {"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"Hello"},{"type":"tool_use","id":"t","name":"f","input":{}}]}
            """)!, 200);
        Assert.Equal(["Hello", ""], ctx.GetContentPart(HookEvent.AfterRequest).Texts);
        Assert.Equal("Hello", ctx.ResponseText);
        var rewritten = ctx.WithTexts(HookEvent.AfterRequest, ["Bye"]);
        Assert.Equal("text", Str(rewritten!["content"]![0]!["type"]));
        Assert.Equal("Bye", Str(rewritten["content"]![0]!["text"]));
        Assert.Equal("tool_use", Str(rewritten["content"]![1]!["type"]));
    }

    [Fact]
    public void Completions_prompt_and_choice_text()
    {
        var ctx = Context("""{"model":"m","prompt":["one","two"]}""", "complete");
        Assert.Equal(["one", "two"], ctx.GetContentPart(HookEvent.BeforeRequest).Texts);
        Assert.Equal("one\ntwo", ctx.RequestText);
        var body = ctx.WithTexts(HookEvent.BeforeRequest, [null, "TWO"]);
        Assert.Equal("TWO", Str(body!["prompt"]![1]));
        ctx.SetResponse((JsonObject)JsonNode.Parse("""{"choices":[{"index":0,"text":"answer"}]}""")!, 200);
        Assert.Equal("answer", ctx.GetText(HookEvent.AfterRequest));
        Assert.Equal("answer", ctx.ResponseText);
    }

    [Fact]
    public void Embeddings_input_string_or_array()
    {
        Assert.Equal("just one", Context("""{"model":"e","input":"just one"}""", "embed").GetText(HookEvent.BeforeRequest));
        var ctx = Context("""{"model":"e","input":["a","b",[1,2,3]]}""", "embed");
        Assert.Equal(["a", "b", ""], ctx.GetContentPart(HookEvent.BeforeRequest).Texts);
    }

    [Fact]
    public void Responses_input_is_the_string_or_the_last_item_and_output_is_output_text_parts()
    {
        Assert.Equal("plain", Context("""{"model":"m","input":"plain"}""", "createModelResponse").GetText(HookEvent.BeforeRequest));
        var ctx = Context("""
            {"model":"m","instructions":"sys","input":[{"role":"user","content":"earlier"},
              {"type":"message","role":"user","content":[{"type":"input_text","text":"now"},{"type":"input_image","image_url":"http://x/i.png"}]}]}
            """, "createModelResponse");
        Assert.Equal(["now", ""], ctx.GetContentPart(HookEvent.BeforeRequest).Texts);
        Assert.Equal(["sys", "earlier", "now", ""], ctx.GetContentPart(HookEvent.BeforeRequest, TextScope.All).Texts);
        ctx.SetResponse((JsonObject)JsonNode.Parse("""
            {"id":"resp_1","output":[{"type":"reasoning","summary":[]},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"out1"},{"type":"output_text","text":"out2"}]}]}
            """)!, 200);
        Assert.Equal(["out1", "out2"], ctx.GetContentPart(HookEvent.AfterRequest).Texts);
        Assert.Equal("out1\nout2", ctx.ResponseText);
        var body = ctx.WithTexts(HookEvent.AfterRequest, ["X", null]);
        Assert.Equal("X", Str(body!["output"]![1]!["content"]![0]!["text"]));
        Assert.Equal("out2", Str(body["output"]![1]!["content"]![1]!["text"]));
    }

    [Fact]
    public void Replacing_bodies_rederives_text_and_sets_the_transformed_flags()
    {
        var ctx = Chat("before");
        Assert.False(ctx.RequestTransformed);
        ctx.ReplaceRequestJson(ctx.WithTexts(HookEvent.BeforeRequest, ["after"])!);
        Assert.Equal("after", ctx.RequestText);
        Assert.True(ctx.RequestTransformed);
        ctx.SetResponse(ChatCompletion("old"), 200);
        ctx.ReplaceResponseJson(ChatCompletion("new"));
        Assert.Equal("new", ctx.ResponseText);
        Assert.True(ctx.ResponseTransformed);
    }

    [Fact]
    public void Plugin_context_json_has_portkeys_shape_and_no_request_headers()
    {
        var ctx = Chat("hi", headers: new HeaderBag().Set("Authorization", "Bearer secret-token"), metadataJson: """{"team":"a"}""");
        var json = JsonNode.Parse(ctx.ToPluginContextJson(HookEvent.BeforeRequest))!;
        Assert.Equal("hi", Str(json["request"]!["text"]));
        Assert.Equal("chatComplete", Str(json["requestType"]));
        Assert.Equal("beforeRequestHook", Str(json["eventType"]));
        Assert.Equal("a", Str(json["metadata"]!["team"]));
        Assert.Null(json["request"]!["headers"]);
        Assert.DoesNotContain("secret-token", json.ToJsonString());
    }
}
