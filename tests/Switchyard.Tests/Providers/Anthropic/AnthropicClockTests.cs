using Switchyard.Tests.Infrastructure;
using Xunit;
using static Switchyard.Tests.Providers.Anthropic.AnthropicHarness;

namespace Switchyard.Tests.Providers.Anthropic;

/// <summary>A translated answer's <c>created</c> comes from the engine's clock.</summary>
public sealed class AnthropicClockTests
{
    private static readonly DateTimeOffset Fixed = new(2001, 9, 9, 1, 46, 40, TimeSpan.Zero);

    [Fact]
    public async Task Created_of_a_translated_chat_completion_is_the_engine_clocks_time()
    {
        await using var h = await StartAsync(time: new ManualClock(Fixed));
        var completion = await h.ChatJsonAsync(Chat(User("what time is it?")));
        Assert.Equal(1_000_000_000L, Fixed.ToUnixTimeSeconds());
        Assert.Equal(Fixed.ToUnixTimeSeconds(), completion["created"]!.GetValue<long>());
    }

    [Fact]
    public async Task Created_of_every_translated_stream_chunk_is_the_engine_clocks_time()
    {
        await using var h = await StartAsync(time: new ManualClock(Fixed));
        var body = Chat(User("stream the time"));
        body["stream"] = true;
        var (chunks, done) = await h.StreamAsync(body);
        Assert.True(done);
        Assert.NotEmpty(chunks);
        Assert.All(chunks, c => Assert.Equal(Fixed.ToUnixTimeSeconds(), c["created"]!.GetValue<long>()));
    }
}
