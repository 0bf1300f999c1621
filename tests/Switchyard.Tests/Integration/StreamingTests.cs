using System.Net;
using System.Text;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Integration;

/// <summary>SSE relay: event by event, unbuffered, cancellation both ways, and graceful shutdown that lets streams finish.</summary>
public sealed class StreamingTests
{
    private static async Task<string> ReadEventAsync(StreamReader reader)
    {
        var sb = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                if (sb.Length > 0)
                {
                    return sb.ToString();
                }
                continue;
            }
            sb.AppendLine(line);
        }
        return sb.ToString();
    }

    [Fact]
    public async Task Each_event_reaches_the_client_before_the_upstream_produces_the_next()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        sim.StepMode = true;
        // With include_usage the client sees every upstream event (without it the gateway hides the usage event it asked for).
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("one two three", stream: true, includeUsage: true), Requests.HeaderMode(sim.BaseUrl)),
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var events = new List<string>();
        for (var i = 1; ; i++)
        {
            // The simulator has flushed event i and now waits for us; the client must see it without event i+1 existing.
            await sim.WaitForEventsSentAsync(i, TimeSpan.FromSeconds(10));
            var read = ReadEventAsync(reader);
            var first = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10)));
            Assert.True(first == read, $"event {i} was held back by the gateway");
            var ev = await read;
            events.Add(ev);
            Assert.Equal(i, sim.Requests[0].EventsSent);
            if (ev.Contains("[DONE]", StringComparison.Ordinal))
            {
                break;
            }
            sim.ReleaseNextEvent();
        }
        var text = string.Concat(events.Where(e => e.Contains("\"content\"", StringComparison.Ordinal))
            .Select(e => System.Text.Json.JsonDocument.Parse(e["data: ".Length..]).RootElement.GetProperty("choices")[0].GetProperty("delta"))
            .Where(d => d.TryGetProperty("content", out _)).Select(d => d.GetProperty("content").GetString()));
        Assert.Equal("echo: one two three", text);
        Assert.True(events.Count >= 5);
    }

    [Fact]
    public async Task Streamed_bytes_are_identical_to_the_upstream_stream()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var body = Requests.Chat("compare these bytes", stream: true, includeUsage: true);
        using var direct = new HttpClient();
        var directRequest = new HttpRequestMessage(HttpMethod.Post, sim.BaseUrl + "/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        directRequest.Headers.TryAddWithoutValidation("Authorization", "Bearer k");
        var expected = await (await direct.SendAsync(directRequest)).Content.ReadAsStringAsync();
        var through = await (await gw.SendAsync(TestGateway.Post("/v1/chat/completions", body, Requests.HeaderMode(sim.BaseUrl)))).Content.ReadAsStringAsync();
        // Ids and timestamps differ per response; the framing and the content must not.
        static string Normalise(string s) => System.Text.RegularExpressions.Regex.Replace(s, "\"(id|created)\":(\"[^\"]*\"|\\d+)", "\"$1\":_");
        Assert.Equal(Normalise(expected), Normalise(through));
        Assert.EndsWith("data: [DONE]\n\n", through);
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_cancels_the_upstream_call()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { StreamEventInterval = TimeSpan.FromMilliseconds(200) });
        await using var gw = await TestGateway.StartAsync();
        using var client = new HttpClient { BaseAddress = gw.BaseUrl };
        var response = await client.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(string.Join(' ', Enumerable.Repeat("word", 40)), stream: true), Requests.HeaderMode(sim.BaseUrl)),
            HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64];
        Assert.True(await stream.ReadAsync(buffer) > 0);
        response.Dispose();
        client.Dispose();

        var seen = await sim.WaitForRequestCompletionAsync(0, TimeSpan.FromSeconds(10));
        Assert.True(seen.Aborted, "the upstream should see the gateway hang up");
        Assert.True(seen.EventsSent < 40, $"upstream kept producing: {seen.EventsSent} events");
    }

    [Fact]
    public async Task A_client_that_disconnects_while_waiting_for_headers_cancels_the_upstream_call()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        sim.Enqueue(SimulatedFault.Hang());
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        using var client = new HttpClient { BaseAddress = gw.BaseUrl };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            client.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.HeaderMode(sim.BaseUrl)), cts.Token));
        var seen = await sim.WaitForRequestCompletionAsync(0, TimeSpan.FromSeconds(10));
        Assert.True(seen.Aborted);
    }

    [Fact]
    public async Task An_upstream_that_cuts_the_stream_makes_the_client_see_an_incomplete_response()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        sim.Enqueue(SimulatedFault.CutStreamAfter(3));
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("a b c d e f g", stream: true), Requests.HeaderMode(sim.BaseUrl)),
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stream = await response.Content.ReadAsStreamAsync();
        var received = new MemoryStream();
        await Assert.ThrowsAnyAsync<Exception>(() => stream.CopyToAsync(received));
        Assert.DoesNotContain("[DONE]", Encoding.UTF8.GetString(received.ToArray()));
    }

    [Fact]
    public async Task Graceful_shutdown_lets_an_in_flight_stream_finish()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { StreamEventInterval = TimeSpan.FromMilliseconds(50) });
        var gw = await TestGateway.StartAsync(shutdownGrace: TimeSpan.FromSeconds(20));
        try
        {
            var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(string.Join(' ', Enumerable.Repeat("w", 20)), stream: true), Requests.HeaderMode(sim.BaseUrl)),
                HttpCompletionOption.ResponseHeadersRead);
            var read = response.Content.ReadAsStringAsync();
            await sim.WaitForEventsSentAsync(2, TimeSpan.FromSeconds(10));
            var stopping = gw.App.StopAsync();
            var text = await read;
            await stopping;
            Assert.EndsWith("data: [DONE]\n\n", text);
            Assert.False(sim.Requests[0].Aborted);
        }
        finally
        {
            await gw.DisposeAsync();
        }
    }
}
