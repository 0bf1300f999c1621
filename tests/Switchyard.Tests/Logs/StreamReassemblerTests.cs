using System.Text;
using Switchyard.Core.Logs;
using Switchyard.Core.Logs.Bodies;
using Xunit;

namespace Switchyard.Tests.Logs;

public sealed class StreamReassemblerTests
{
    private static byte[] Sse(params string[] data) => Encoding.UTF8.GetBytes(string.Concat(data.Select(d => $"data: {d}\r\n\r\n")));

    [Fact]
    public void Chat_chunks_with_tool_calls_and_usage_become_one_completion()
    {
        var stream = Sse(
            """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}""",
            """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}""",
            """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Oslo\"}"}}]},"finish_reason":"tool_calls"}]}""",
            """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14}}""",
            "[DONE]");
        var answer = StreamReassembler.Reassemble(stream)!;
        var call = answer["choices"]![0]!["message"]!["tool_calls"]![0]!;
        Assert.Equal("call_1", (string?)call["id"]);
        Assert.Equal("{\"city\":\"Oslo\"}", (string?)call["function"]!["arguments"]);
        Assert.Equal("tool_calls", (string?)answer["choices"]![0]!["finish_reason"]);
        Assert.Equal(14, (int)answer["usage"]!["total_tokens"]!);
        Assert.Equal("get_weather{\"city\":\"Oslo\"}", CompletionText.From(answer));
    }

    [Fact]
    public void A_stream_cut_mid_event_keeps_what_arrived()
    {
        var whole = Sse(
            """{"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"}}]}""",
            """{"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" world"}}]}""");
        var cut = whole[..(whole.Length - 20)];
        var answer = StreamReassembler.Reassemble(cut)!;
        Assert.Equal("Hello", (string?)answer["choices"]![0]!["message"]!["content"]);
        Assert.Null(answer["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public void Anthropic_events_with_thinking_and_tool_input_become_one_message()
    {
        var stream = Encoding.UTF8.GetBytes(string.Concat(new[]
        {
            ("message_start", """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"usage":{"input_tokens":12,"output_tokens":1}}}"""),
            ("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"""),
            ("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"tu_1","name":"lookup","input":{}}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":"}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"x\"}"}}"""),
            ("message_delta", """{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":30}}"""),
            ("message_stop", """{"type":"message_stop"}"""),
        }.Select(e => $"event: {e.Item1}\ndata: {e.Item2}\n\n")));
        var message = StreamReassembler.Reassemble(stream)!;
        Assert.Equal("hmm", (string?)message["content"]![0]!["thinking"]);
        Assert.Equal("x", (string?)message["content"]![1]!["input"]!["q"]);
        Assert.Equal("tool_use", (string?)message["stop_reason"]);
        Assert.Equal(12, (int)message["usage"]!["input_tokens"]!);
        Assert.Equal(30, (int)message["usage"]!["output_tokens"]!);
    }

    [Fact]
    public void A_responses_stream_is_its_final_response_or_the_text_so_far()
    {
        var created = """{"type":"response.created","response":{"id":"resp_1","object":"response","status":"in_progress","output":[]}}""";
        var delta = """{"type":"response.output_text.delta","delta":"partial"}""";
        var completed = """{"type":"response.completed","response":{"id":"resp_1","object":"response","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"done"}]}]}}""";
        var final = StreamReassembler.Reassemble(Sse(created, delta, completed))!;
        Assert.Equal("completed", (string?)final["status"]);
        Assert.Equal("done", CompletionText.From(final));
        var cut = StreamReassembler.Reassemble(Sse(created, delta))!;
        Assert.Equal("partial", CompletionText.From(cut));
    }

    [Fact]
    public void Unknown_streams_give_null()
    {
        Assert.Null(StreamReassembler.Reassemble(Sse("""{"hello":"world"}""")));
        Assert.Null(StreamReassembler.Reassemble([]));
    }

    [Theory]
    [InlineData("Authorization", true)]
    [InlineData("x-portkey-api-key", true)]
    [InlineData("x-portkey-aws-access-key-id", true)]
    [InlineData("x-portkey-aws-session-token", true)]
    [InlineData("x-portkey-vertex-service-account-json", true)]
    [InlineData("x-portkey-aws-role-arn", true)]
    [InlineData("proxy-authorization", true)]
    [InlineData("x-portkey-trace-id", false)]
    [InlineData("x-portkey-metadata", false)]
    [InlineData("max_tokens", false)]
    [InlineData("content-type", false)]
    public void Secret_names_are_recognised(string name, bool secret) => Assert.Equal(secret, SecretNames.IsSecret(name));
}
