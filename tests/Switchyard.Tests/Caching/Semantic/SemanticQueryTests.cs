using System.Text.Json.Nodes;
using Switchyard.Core.Caching.Semantic;
using Xunit;

namespace Switchyard.Tests.Caching.Semantic;

/// <summary>Splitting a request into the last user message's text and an exact-match context.</summary>
public sealed class SemanticQueryTests
{
    private static JsonObject Chat(string lastContentJson, string system = "You are terse.", double temperature = 0.2) => JsonNode.Parse($$"""
        {"model":"gpt-4o-mini","temperature":{{temperature.ToString(System.Globalization.CultureInfo.InvariantCulture)}},
         "messages":[{"role":"system","content":"{{system}}"},{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},
                     {"role":"user","content":{{lastContentJson}}}]}
        """)!.AsObject();

    [Fact]
    public void The_last_user_text_is_taken_out_and_the_rest_is_canonical_json()
    {
        var query = SemanticQuery.TryCreate(Chat("\"How do I reset my password?\""))!;
        Assert.Equal("How do I reset my password?", query.Text);
        Assert.Equal(
            """{"messages":[{"content":"You are terse.","role":"system"},{"content":"hi","role":"user"},{"content":"hello","role":"assistant"},{"content":"{{semantic-cache:last-user-message}}","role":"user"}],"model":"gpt-4o-mini","temperature":0.2}""",
            query.ContextJson);
        Assert.Equal(64, query.ContextHash.Length);
    }

    [Fact]
    public void Key_order_and_the_shape_of_the_text_do_not_change_the_context_but_any_other_field_does()
    {
        var baseline = SemanticQuery.TryCreate(Chat("\"Reset my password\""))!;
        var reordered = SemanticQuery.TryCreate(JsonNode.Parse("""
            {"messages":[{"content":"You are terse.","role":"system"},{"role":"user","content":"hi"},{"content":"hello","role":"assistant"},
                         {"content":[{"type":"text","text":"How can I reset my password?"}],"role":"user"}],"temperature":0.2,"model":"gpt-4o-mini"}
            """)!.AsObject())!;
        Assert.Equal(baseline.ContextJson, reordered.ContextJson);
        Assert.Equal(baseline.ContextHash, reordered.ContextHash);
        Assert.Equal("How can I reset my password?", reordered.Text);

        Assert.NotEqual(baseline.ContextJson, SemanticQuery.TryCreate(Chat("\"Reset my password\"", system: "You are verbose."))!.ContextJson);
        Assert.NotEqual(baseline.ContextJson, SemanticQuery.TryCreate(Chat("\"Reset my password\"", temperature: 0.3))!.ContextJson);
        var withTools = Chat("\"Reset my password\"");
        withTools["tools"] = new JsonArray(new JsonObject { ["type"] = "function" });
        Assert.NotEqual(baseline.ContextJson, SemanticQuery.TryCreate(withTools)!.ContextJson);
    }

    [Fact]
    public void Text_parts_are_joined_with_a_line_break()
    {
        var query = SemanticQuery.TryCreate(Chat("""[{"type":"text","text":"Line one"},{"type":"text","text":"line two"}]"""))!;
        Assert.Equal("Line one\nline two", query.Text);
    }

    [Theory]
    [InlineData("""[{"type":"text","text":"What is in this picture?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]""")]
    [InlineData("""[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]""")]
    [InlineData("""[{"type":"file","file":{"file_id":"file-1"}}]""")]
    [InlineData("\"   \"")]
    [InlineData("[]")]
    [InlineData("null")]
    public void Non_text_or_empty_content_is_not_eligible(string content)
    {
        Assert.Null(SemanticQuery.TryCreate(Chat(content)));
    }

    [Fact]
    public void A_conversation_that_does_not_end_with_the_user_is_not_eligible()
    {
        var body = Chat("\"question\"");
        body["messages"]!.AsArray().Add(new JsonObject { ["role"] = "assistant", ["content"] = "answer" });
        Assert.Null(SemanticQuery.TryCreate(body));
        Assert.Null(SemanticQuery.TryCreate(JsonNode.Parse("""{"model":"m","messages":[]}""")!.AsObject()));
        Assert.Null(SemanticQuery.TryCreate(JsonNode.Parse("""{"model":"m"}""")!.AsObject()));
    }

    [Fact]
    public void A_completions_prompt_string_is_split_the_same_way_and_token_prompts_are_not_eligible()
    {
        var query = SemanticQuery.TryCreate(JsonNode.Parse("""{"prompt":"Say hi","model":"gpt-3.5-turbo-instruct","max_tokens":5}""")!.AsObject())!;
        Assert.Equal("Say hi", query.Text);
        Assert.Equal("""{"max_tokens":5,"model":"gpt-3.5-turbo-instruct","prompt":"{{semantic-cache:last-user-message}}"}""", query.ContextJson);
        Assert.Equal("Say hi", SemanticQuery.TryCreate(JsonNode.Parse("""{"prompt":["Say hi"],"model":"m"}""")!.AsObject())!.Text);
        Assert.Null(SemanticQuery.TryCreate(JsonNode.Parse("""{"prompt":[1,2,3],"model":"m"}""")!.AsObject()));
        Assert.Null(SemanticQuery.TryCreate(JsonNode.Parse("""{"prompt":["a","b"],"model":"m"}""")!.AsObject()));
    }
}
