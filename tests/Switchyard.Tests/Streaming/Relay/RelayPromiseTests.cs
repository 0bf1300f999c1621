using Xunit;

namespace Switchyard.Tests.Streaming.Relay;

/// <summary>
/// The relay's two promises on every path it serves (default chat, chat translated to Anthropic, Bedrock and Gemini,
/// /v1/messages native and translated, /v1/responses native and translated, and the cache's write-through on a miss):
/// no event is held back, and a client that hangs up cancels the upstream call.
/// </summary>
public sealed class RelayPromiseTests
{
    private const string Prompt = "one two three four five";

    public static TheoryData<string> Paths => new(RelayPath.Names);

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Each_text_event_reaches_the_client_before_the_upstream_sends_the_next(string name)
    {
        await using var path = await RelayPath.StartAsync(name);
        path.StepMode = true;
        await using var client = await path.OpenAsync(Prompt);
        if (path.Cached)
        {
            Assert.Equal("MISS", client.Response.Headers.TryGetValues("x-portkey-cache-status", out var status) ? string.Join(",", status) : "");
        }

        var textEvents = await path.RelayEventByEventAsync(client, Prompt);

        Assert.True(await client.WaitUntilAsync(c => c.Ended, RelayPath.Bound), $"{name}: the stream did not end after the upstream finished");
        Assert.Null(client.Failure);
        Assert.True(client.Terminal, $"{name}: no terminal event in {string.Concat(client.Events)}");
        Assert.Equal(RelayPath.ExpectedText(Prompt), client.Text);
        // Each word was checked on its own (Bedrock sends two words an event): the test cannot pass by checking nothing.
        Assert.True(textEvents >= 3, $"{name}: only {textEvents} text events were checked");
        Assert.False(client.Response.Content.Headers.ContentLength.HasValue, $"{name}: a stream must not declare a length");
        if (name.StartsWith("chat>openai", StringComparison.Ordinal))
        {
            // The client did not ask for usage: the usage chunk the gateway asked for upstream is not relayed.
            Assert.False(client.SawUsage, $"{name}: a chunk with usage reached a client that did not ask for it");
            Assert.Contains("\"include_usage\":true", path.ModelRequests[0].BodyText.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task A_client_that_hangs_up_mid_stream_cancels_the_upstream_call(string name)
    {
        await using var path = await RelayPath.StartAsync(name);
        path.StepMode = true;
        var client = await path.OpenAsync(Prompt);
        await using (client)
        {
            // The answer has started (the first words are at the client) and the simulator is parked mid-stream.
            await path.RelayEventByEventAsync(client, Prompt, stopAtWords: 2);
        }
        var upstream = Assert.Single(path.ModelRequests);
        var sentWhenTheClientLeft = upstream.EventsSent;

        // Parked in step mode, the simulator only stops when its connection goes away.
        Assert.True(await RelayPath.CompletesWithinAsync(upstream.Completion, RelayPath.Bound), $"{name}: the upstream call was still open {RelayPath.Bound.TotalSeconds} s after the client hung up");
        Assert.True(upstream.Aborted, $"{name}: the upstream response should end aborted, not complete");
        Assert.Equal(sentWhenTheClientLeft, upstream.EventsSent);
        Assert.False(client.Terminal);
    }
}
