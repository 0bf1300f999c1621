using System.Text;
using Switchyard.Core.Usage;
using Xunit;

namespace Switchyard.Tests.Usage;

/// <summary>Usage read from JSON bodies and from the tail of event streams, including streams split at awkward places.</summary>
public sealed class UsageReaderTests
{
    [Fact]
    public void Json_usage_and_model_are_read_whatever_their_position()
    {
        var body = """{"id":"x","choices":[{"message":{"content":"usage: fake","usage":1}}],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2}},"model":"gpt-4o-2024"}""";
        var (usage, model) = UsageReader.FromJson(Encoding.UTF8.GetBytes(body));
        Assert.Equal(new TokenUsage(12, 5, 17, 4, 2), usage);
        Assert.Equal("gpt-4o-2024", model);
        Assert.Null(UsageReader.FromJson("{\"usage\":null}"u8).Usage);
        Assert.Null(UsageReader.FromJson("{\"broken\":"u8).Usage);
        Assert.Equal(new TokenUsage(3, 0, 3, 0, 0), UsageReader.FromJson("{\"usage\":{\"prompt_tokens\":3}}"u8).Usage);
    }

    private const string Stream =
        "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n" +
        "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n" +
        "data: {\"id\":\"c\",\"model\":\"m-final\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12}}\n\n" +
        "data: [DONE]\n\n";

    [Fact]
    public void The_last_usage_chunk_of_a_stream_is_found_in_the_tail()
    {
        var (usage, model) = UsageReader.FromEventStreamTail(Encoding.UTF8.GetBytes(Stream));
        Assert.Equal(new TokenUsage(9, 3, 12, 0, 0), usage);
        Assert.Equal("m-final", model);
        Assert.Null(UsageReader.FromEventStreamTail(Encoding.UTF8.GetBytes(Stream.Replace("\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12}", "\"usage\":null"))).Usage);
        Assert.Equal(12, UsageReader.FromEventStreamTail(Encoding.UTF8.GetBytes(Stream.Replace("\n", "\r\n"))).Usage?.TotalTokens);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(5000)]
    public void The_tap_sees_the_same_usage_however_the_bytes_are_chunked(int chunk)
    {
        // Pad the stream so the usage chunk sits beyond the tap's tail window from the start.
        var padding = string.Concat(Enumerable.Repeat("data: {\"choices\":[{\"delta\":{\"content\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}]}\n\n", 400));
        var bytes = Encoding.UTF8.GetBytes(padding + Stream);
        var tap = new ResponseTap(isEventStream: true, contentLength: null);
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            tap.Observe(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)));
        }
        Assert.Equal(12, tap.Read().Usage?.TotalTokens);

        var json = Encoding.UTF8.GetBytes("{\"pad\":\"" + new string('p', 20_000) + "\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}");
        var jsonTap = new ResponseTap(isEventStream: false, contentLength: 100);
        for (var i = 0; i < json.Length; i += chunk)
        {
            jsonTap.Observe(json.AsSpan(i, Math.Min(chunk, json.Length - i)));
        }
        Assert.Equal(2, jsonTap.Read().Usage?.TotalTokens);
    }

    [Fact]
    public void Anthropic_usage_counts_cache_reads_and_writes_as_prompt_tokens()
    {
        var (usage, model) = UsageReader.FromJson("""
            {"id":"msg_1","type":"message","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":7,"cache_creation_input_tokens":100,"cache_read_input_tokens":50}}
            """u8);
        Assert.Equal("claude-sonnet-4-5", model);
        Assert.Equal(new TokenUsage(160, 7, 167, 50, 0, 100), usage);
    }

    [Fact]
    public void Responses_usage_is_read_from_the_completed_event_and_keeps_openai_semantics()
    {
        var stream = Encoding.UTF8.GetBytes(
            "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"usage\":null}}\n\n" +
            "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"model\":\"gpt-5\",\"usage\":{\"input_tokens\":30,\"input_tokens_details\":{\"cached_tokens\":20},\"output_tokens\":9,\"output_tokens_details\":{\"reasoning_tokens\":4},\"total_tokens\":39}}}\n\n");
        var tap = new ResponseTap(isEventStream: true, contentLength: null);
        tap.Observe(stream);
        var (usage, model) = tap.Read();
        Assert.Equal("gpt-5", model);
        Assert.Equal(new TokenUsage(30, 9, 39, 20, 4), usage);
    }

    [Fact]
    public void An_anthropic_stream_takes_input_tokens_from_message_start_even_when_it_left_the_tail_window()
    {
        var head = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-haiku-4-5\",\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":5,\"cache_creation_input_tokens\":0,\"output_tokens\":1}}}\n\n";
        var padding = string.Concat(Enumerable.Repeat("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}\n\n", 300));
        var end = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":42}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        var bytes = Encoding.UTF8.GetBytes(head + padding + end);
        var tap = new ResponseTap(isEventStream: true, contentLength: null);
        for (var i = 0; i < bytes.Length; i += 1000)
        {
            tap.Observe(bytes.AsSpan(i, Math.Min(1000, bytes.Length - i)));
        }
        var (usage, model) = tap.Read();
        Assert.Equal(30, usage?.PromptTokens);
        Assert.Equal(42, usage?.CompletionTokens);
        Assert.Equal(72, usage?.TotalTokens);
        Assert.Equal(5, usage?.CachedPromptTokens);
        Assert.Equal("claude-haiku-4-5", model);
    }
}
