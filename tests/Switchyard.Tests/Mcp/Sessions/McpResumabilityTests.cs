using System.Net;
using Xunit;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Sessions;

namespace Switchyard.Tests.Mcp.Sessions;

#pragma warning disable MCP9006 // The legacy-era resumability types are what is under test.

/// <summary>
/// <c>Last-Event-ID</c> replay with <see cref="McpEventStreamStore"/>: a tool call's SSE response cut after the first progress
/// event is resumed with a GET and the missed events arrive; the per-stream bound and the expiry hold.
/// </summary>
public sealed class McpResumabilityTests
{
    private const string Route = "/everything/mcp";

    [Fact]
    public async Task A_cut_tool_call_stream_resumed_with_Last_Event_ID_replays_exactly_the_missed_events()
    {
        await using var server = await SessionTestServer.StartAsync(new McpOptions());
        var sessionId = await server.InitializeAsync(Route, "alice");

        using var call = SessionTestServer.Post(Route,
            """{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow_progress","arguments":{},"_meta":{"progressToken":"p-1"}}}""",
            sessionId, "alice");
        string? lastEventId = null;
        var seenBeforeCut = new List<double>();
        using (var response = await server.Client.SendAsync(call, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            var stream = await response.Content.ReadAsStreamAsync();
            await using var events = SseParser.Create(stream).EnumerateAsync().GetAsyncEnumerator();
            while (seenBeforeCut.Count == 0)
            {
                Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)), "the stream ended before the first progress event");
                Assert.NotNull(events.Current.EventId);
                lastEventId = events.Current.EventId;
                if (events.Current.Data.Length > 0 && JsonDocument.Parse(events.Current.Data).RootElement.TryGetProperty("method", out var m)
                    && m.GetString() == "notifications/progress")
                {
                    seenBeforeCut.Add(JsonDocument.Parse(events.Current.Data).RootElement.GetProperty("params").GetProperty("progress").GetDouble());
                }
            }
        } // the stream is cut here, with the tool still waiting

        Assert.Equal([1.0], seenBeforeCut);
        server.ReleaseSlowTool();

        using var resume = new HttpRequestMessage(HttpMethod.Get, Route);
        resume.Headers.Accept.ParseAdd("text/event-stream");
        resume.Headers.Add("Last-Event-ID", lastEventId);
        SessionTestServer.Decorate(resume, sessionId, "alice");
        using var resumed = await server.Client.SendAsync(resume, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        var replayed = await SessionTestServer.ReadMessagesAsync(resumed).WaitAsync(TimeSpan.FromSeconds(30));

        var progress = replayed.Where(m => m.Message.TryGetProperty("method", out var method) && method.GetString() == "notifications/progress")
            .Select(m => m.Message.GetProperty("params").GetProperty("progress").GetDouble()).ToList();
        Assert.Equal([2.0, 3.0, 4.0], progress);
        var result = Assert.Single(replayed, m => m.Message.TryGetProperty("result", out _)).Message;
        Assert.Equal(7, result.GetProperty("id").GetInt32());
        Assert.Equal("done", result.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());
        Assert.All(replayed, m => Assert.NotNull(m.Id));
    }

    [Fact]
    public async Task An_unknown_or_foreign_Last_Event_ID_gets_400_and_without_a_buffer_replay_is_off()
    {
        await using var server = await SessionTestServer.StartAsync(new McpOptions());
        var sessionId = await server.InitializeAsync(Route, "alice");
        using var resume = new HttpRequestMessage(HttpMethod.Get, Route);
        resume.Headers.Accept.ParseAdd("text/event-stream");
        resume.Headers.Add("Last-Event-ID", "0123456789ab_1_1");
        SessionTestServer.Decorate(resume, sessionId, "alice");
        using var refused = await server.Client.SendAsync(resume);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Last-Event-ID", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await using var off = await SessionTestServer.StartAsync(new McpOptions { EventBuffer = 0 });
        Assert.Null(off.Services.GetService(typeof(ISseEventStreamStore)));
    }

    private static SseItem<JsonRpcMessage?> Note(int n) =>
        new(new JsonRpcNotification { Method = "notifications/message", Params = System.Text.Json.Nodes.JsonNode.Parse($$"""{"n":{{n}}}""") });

    private static async Task<List<int>> ReadAllAsync(ISseEventStreamReader reader)
    {
        var seen = new List<int>();
        await foreach (var item in reader.ReadEventsAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token))
        {
            seen.Add(((JsonRpcNotification)item.Data!).Params!["n"]!.GetValue<int>());
        }
        return seen;
    }

    [Fact]
    public async Task Each_stream_keeps_at_most_the_buffer_and_an_id_whose_successors_were_dropped_is_refused()
    {
        var store = new McpEventStreamStore(capacity: 3, expiry: TimeSpan.FromMinutes(30));
        var writer = await store.CreateStreamAsync(new SseEventStreamOptions { SessionId = "s1", StreamId = "42" });
        var ids = new List<string>();
        for (var n = 1; n <= 10; n++)
        {
            ids.Add((await writer.WriteEventAsync(Note(n))).EventId!);
        }
        Assert.Equal(10, ids.Distinct().Count());
        Assert.Equal(3, store.BufferedEvents("s1"));

        // Events 2..7 are gone: resuming after 1 would leave a hole, so it is refused (the SDK answers 400).
        Assert.Null(await store.GetStreamReaderAsync(ids[0]));
        Assert.Null(await store.GetStreamReaderAsync(ids[5]));
        // After 7, events 8..10 are all kept.
        var reader = await store.GetStreamReaderAsync(ids[6]);
        Assert.NotNull(reader);
        Assert.Equal(("s1", "42"), (reader.SessionId, reader.StreamId));
        await writer.DisposeAsync();
        Assert.Equal([8, 9, 10], await ReadAllAsync(reader));
        // After the last event: nothing to replay, and the ended stream ends the replay at once.
        Assert.Empty(await ReadAllAsync((await store.GetStreamReaderAsync(ids[9]))!));
        Assert.Null(await store.GetStreamReaderAsync("not-an-id"));
    }

    [Fact]
    public async Task A_live_reader_gets_events_written_after_it_started_and_ends_when_the_writer_ends()
    {
        var store = new McpEventStreamStore(capacity: 100, expiry: TimeSpan.FromMinutes(30));
        var writer = await store.CreateStreamAsync(new SseEventStreamOptions { SessionId = "s1", StreamId = "get" });
        var first = await writer.WriteEventAsync(Note(1));
        var reader = (await store.GetStreamReaderAsync(first.EventId!))!;
        var reading = ReadAllAsync(reader);
        await writer.WriteEventAsync(Note(2));
        await writer.WriteEventAsync(Note(3));
        Assert.False(reading.IsCompleted);
        await writer.DisposeAsync();
        Assert.Equal([2, 3], await reading.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_stream_untouched_for_the_idle_timeout_expires()
    {
        var time = new FakeTimeProvider();
        var store = new McpEventStreamStore(capacity: 10, expiry: TimeSpan.FromMinutes(30), time);
        var writer = await store.CreateStreamAsync(new SseEventStreamOptions { SessionId = "s1", StreamId = "1" });
        var id = (await writer.WriteEventAsync(Note(1))).EventId!;
        await writer.WriteEventAsync(Note(2));
        time.Advance(TimeSpan.FromMinutes(29));
        Assert.NotNull(await store.GetStreamReaderAsync(id)); // a lookup within the timeout also counts as use
        time.Advance(TimeSpan.FromMinutes(31));
        Assert.Null(await store.GetStreamReaderAsync(id));
        await store.CreateStreamAsync(new SseEventStreamOptions { SessionId = "s2", StreamId = "1" });
        Assert.Equal(1, store.StreamCount);
    }

    [Fact]
    public async Task In_polling_mode_a_replay_returns_what_is_there_and_ends()
    {
        var store = new McpEventStreamStore(capacity: 10, expiry: TimeSpan.FromMinutes(30));
        var writer = await store.CreateStreamAsync(new SseEventStreamOptions { SessionId = "s1", StreamId = "9" });
        var first = await writer.WriteEventAsync(Note(1));
        await writer.WriteEventAsync(Note(2));
        await writer.SetModeAsync(SseEventStreamMode.Polling);
        Assert.Equal([2], await ReadAllAsync((await store.GetStreamReaderAsync(first.EventId!))!).WaitAsync(TimeSpan.FromSeconds(30)));
        await writer.WriteEventAsync(Note(3));
        Assert.Equal([2, 3], await ReadAllAsync((await store.GetStreamReaderAsync(first.EventId!))!).WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
