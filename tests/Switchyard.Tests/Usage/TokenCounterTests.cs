using System.Text;
using Switchyard.Core.Requests;
using Switchyard.Core.Usage.Tokens;
using Xunit;

namespace Switchyard.Tests.Usage;

/// <summary>Which encoding counts which model, and how each request format's prompt is counted (the cookbook's chat overhead:
/// 3 per message, 1 per name, 3 to prime the reply).</summary>
public sealed class TokenCounterTests
{
    [Theory]
    [InlineData("gpt-4o", "o200k_base", true)]
    [InlineData("gpt-4o-2024-08-06", "o200k_base", true)]
    [InlineData("gpt-4o-mini", "o200k_base", true)]
    [InlineData("GPT-4.1-nano", "o200k_base", true)]
    [InlineData("gpt-5", "o200k_base", true)]
    [InlineData("gpt-5.4-mini", "o200k_base", true)]
    [InlineData("o1", "o200k_base", true)]
    [InlineData("o3-mini", "o200k_base", true)]
    [InlineData("o4-mini-2025-04-16", "o200k_base", true)]
    [InlineData("chatgpt-4o-latest", "o200k_base", true)]
    [InlineData("gpt-oss-120b", "o200k_base", true)]
    [InlineData("openai/gpt-oss-20b", "o200k_base", true)]
    [InlineData("openai.gpt-oss-120b-1:0", "o200k_base", true)]
    [InlineData("ft:gpt-4o-mini-2024-07-18:acme::abc123", "o200k_base", true)]
    [InlineData("gpt-4", "cl100k_base", true)]
    [InlineData("gpt-4-0613", "cl100k_base", true)]
    [InlineData("gpt-4-turbo", "cl100k_base", true)]
    [InlineData("gpt-3.5-turbo", "cl100k_base", true)]
    [InlineData("gpt-35-turbo", "cl100k_base", true)]
    [InlineData("text-embedding-3-small", "cl100k_base", true)]
    [InlineData("text-embedding-ada-002", "cl100k_base", true)]
    [InlineData("openai/gpt-4", "cl100k_base", true)]
    [InlineData("claude-sonnet-4-5", "o200k_base", false)]
    [InlineData("gemini-2.5-pro", "o200k_base", false)]
    [InlineData("anthropic.claude-3-5-sonnet-20240620-v1:0", "o200k_base", false)]
    [InlineData("meta-llama/Llama-3.3-70B-Instruct-Turbo", "o200k_base", false)]
    [InlineData("", "o200k_base", false)]
    [InlineData(null, "o200k_base", false)]
    public void Encoding_follows_the_model(string? model, string encoding, bool exact)
    {
        Assert.Equal(encoding, TokenCounter.EncodingFor(model));
        Assert.Equal(exact, TokenCounter.IsExact(model));
        Assert.Equal(new ModelEncoding(encoding, exact), ModelEncoding.For(model));
    }

    [Fact]
    public void Counting_text_uses_the_models_encoding()
    {
        // cl100k_base has far fewer CJK merges than o200k_base.
        const string text = "東京は日本の首都です。";
        Assert.NotEqual(TokenCounter.CountText("gpt-4o", text), TokenCounter.CountText("gpt-4", text));
        Assert.Equal(0, TokenCounter.CountText("gpt-4o", ""));
        Assert.Equal(1, TokenCounter.CountText("gpt-4o", "hello"));
        Assert.Throws<ArgumentNullException>(() => TokenCounter.CountText("gpt-4o", null!));
    }

    [Fact]
    public void Chat_messages_cost_three_each_plus_their_values_and_three_to_prime_the_reply()
    {
        var body = """{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello there","name":"bob"}]}""";
        var expected = 3 + (3 + T("system") + T("Be brief.")) + (3 + T("user") + T("Hello there") + T("bob") + 1);
        Assert.Equal(expected, Count(body));
        Assert.Equal(3, Count("""{"model":"gpt-4o","messages":[]}"""));
    }

    [Fact]
    public void Content_parts_count_their_text_and_images_audio_and_tools_count_nothing()
    {
        var textOnly = """{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"Describe"},{"type":"text","text":" this"}]}]}""";
        var withMedia = """
            {"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"Describe"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="}},
              {"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}},{"type":"text","text":" this"}]}],
             "tools":[{"type":"function","function":{"name":"lookup","description":"A long description that would cost tokens","parameters":{"type":"object"}}}]}
            """;
        Assert.Equal(3 + 3 + T("user") + T("Describe") + T(" this"), Count(textOnly));
        Assert.Equal(Count(textOnly), Count(withMedia));
    }

    [Fact]
    public void Tool_calls_and_tool_results_count_their_text()
    {
        var body = """
            {"model":"gpt-4o","messages":[
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"18C and sunny"}]}
            """;
        var expected = 3 + (3 + T("assistant") + T("get_weather") + T("{\"city\":\"Paris\"}")) + (3 + T("tool") + T("call_1") + T("18C and sunny"));
        Assert.Equal(expected, Count(body));
    }

    [Fact]
    public void Anthropic_messages_count_as_the_chat_they_translate_to()
    {
        var anthropic = """
            {"model":"claude-sonnet-4-5","max_tokens":100,"system":[{"type":"text","text":"You are terse."}],
             "messages":[{"role":"user","content":[{"type":"text","text":"Weather in Paris?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},
                         {"role":"assistant","content":[{"type":"thinking","thinking":"secret","signature":"x"},{"type":"tool_use","id":"tu_1","name":"get_weather","input":{"city":"Paris"}}]},
                         {"role":"user","content":[{"type":"tool_result","tool_use_id":"tu_1","content":[{"type":"text","text":"18C"}]}]}]}
            """;
        var model = "claude-sonnet-4-5";
        var expected = 3
            + (3 + T("system", model) + T("You are terse.", model))
            + (3 + T("user", model) + T("Weather in Paris?", model))
            + (3 + T("assistant", model) + T("get_weather", model) + T("{\"city\":\"Paris\"}", model))
            + (3 + T("user", model) + T("18C", model));
        Assert.Equal(expected, Count(anthropic, model));
        // The same system prompt given as a string counts the same.
        var asString = anthropic.Replace("""[{"type":"text","text":"You are terse."}]""", "\"You are terse.\"");
        Assert.Equal(expected, Count(asString, model));
        Assert.Equal(expected, TokenCounter.CountPrompt(model, Encoding.UTF8.GetBytes(anthropic), EndpointKind.Messages));
    }

    [Fact]
    public void Responses_input_counts_as_messages_after_the_instructions()
    {
        Assert.Equal(3 + (3 + T("system") + T("Be brief.")) + (3 + T("user") + T("Hi!")),
            Count("""{"model":"gpt-5","instructions":"Be brief.","input":"Hi!"}"""));
        Assert.Equal(3 + (3 + T("user") + T("Hi!")), Count("""{"model":"gpt-5","input":"Hi!"}"""));
        var items = """
            {"model":"gpt-5","input":[
              {"role":"user","content":[{"type":"input_text","text":"Weather?"},{"type":"input_image","image_url":"https://example.com/a.png"}]},
              {"type":"function_call","call_id":"c1","name":"get_weather","arguments":"{}"},
              {"type":"function_call_output","call_id":"c1","output":"sunny"},
              {"type":"reasoning","id":"rs_1","encrypted_content":"gAAAA"},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"It is sunny."}]}]}
            """;
        var expected = 3 + (3 + T("user") + T("Weather?")) + (3 + T("get_weather") + T("{}")) + (3 + T("sunny")) + (3 + T("assistant") + T("It is sunny."));
        Assert.Equal(expected, Count(items));
    }

    [Fact]
    public void Completion_prompts_and_embedding_inputs_count_their_text_or_their_token_arrays()
    {
        Assert.Equal(T("Once upon a time", "gpt-3.5-turbo-instruct"), Count("""{"model":"gpt-3.5-turbo-instruct","prompt":"Once upon a time"}""", "gpt-3.5-turbo-instruct"));
        Assert.Equal(T("a b", "gpt-3.5-turbo-instruct") + T("c", "gpt-3.5-turbo-instruct") + 3 + 2,
            Count("""{"model":"gpt-3.5-turbo-instruct","prompt":["a b","c",[1,2,3],[4,5]]}""", "gpt-3.5-turbo-instruct"));
        Assert.Equal(4, Count("""{"model":"davinci-002","prompt":[15339,1917,0,1]}""", "davinci-002"));
        var model = "text-embedding-3-small";
        Assert.Equal(T("first document", model) + T("second", model), Count("""{"model":"text-embedding-3-small","input":["first document","second"]}""", model));
        Assert.Equal(T("just one", model), Count("""{"model":"text-embedding-3-small","input":"just one"}""", model));
        // A plain string input is an embedding for an embedding model, a one-message Responses prompt otherwise; the endpoint settles it.
        Assert.Equal(T("just one"), TokenCounter.CountPrompt("gpt-4o", """{"input":"just one"}"""u8, EndpointKind.Embed));
        Assert.Equal(3 + 3 + T("user") + T("just one"), TokenCounter.CountPrompt("gpt-4o", """{"input":"just one"}"""u8));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{\"messages\": [")]
    [InlineData("[1,2,3]")]
    [InlineData("\"a string\"")]
    [InlineData("{}")]
    [InlineData("{\"model\":\"gpt-4o\",\"messages\":\"not an array\",\"prompt\":{\"x\":1}}")]
    [InlineData("{\"model\":\"gpt-4o\",\"prompt\":\"\\ud800 lone surrogate\"}")]
    public void Bodies_without_a_readable_prompt_count_zero_and_never_throw(string body)
    {
        Assert.Equal(0, TokenCounter.CountPrompt("gpt-4o", Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void Concurrent_counts_agree_with_sequential_ones()
    {
        var texts = Enumerable.Range(0, 200).Select(i => string.Concat(Enumerable.Repeat($"item {i} ünïcode 東京 {i * 7919} ", i % 13 + 1))).ToArray();
        var sequential = texts.Select((t, i) => TokenCounter.CountText(i % 2 == 0 ? "gpt-4o" : "gpt-4", t)).ToArray();
        var parallel = new long[texts.Length];
        Parallel.For(0, texts.Length * 10, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            var i = k % texts.Length;
            parallel[i] = TokenCounter.CountText(i % 2 == 0 ? "gpt-4o" : "gpt-4", texts[i]);
        });
        Assert.Equal(sequential, parallel);
    }

    private static long T(string text, string model = "gpt-4o") => TokenCounter.CountText(model, text);

    private static long Count(string body, string model = "gpt-4o") => TokenCounter.CountPrompt(model, Encoding.UTF8.GetBytes(body));
}
