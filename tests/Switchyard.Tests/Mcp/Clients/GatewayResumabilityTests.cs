using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Mcp.Clients;

/// <summary>
/// Resumability through the gateway as deployed: a legacy-era client's tool-call stream is cut after the first progress
/// event, and a GET with the gateway's own <c>Last-Event-ID</c> replays the rest and the result, from the gateway's event store
/// (the upstream, server-everything, keeps running the tool: in this era a dropped stream is not a cancellation).
/// </summary>
public sealed class GatewayResumabilityTests(ITestOutputHelper output)
{
    private static HttpRequestMessage Post(Uri endpoint, string body, string? session)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (session is not null)
        {
            request.Headers.Add("Mcp-Session-Id", session);
            request.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        }
        return request;
    }

    private static bool IsProgress(JsonElement message, out double progress)
    {
        progress = 0;
        if (message.TryGetProperty("method", out var method) && method.GetString() == "notifications/progress")
        {
            progress = message.GetProperty("params").GetProperty("progress").GetDouble();
            return true;
        }
        return false;
    }

    [Fact]
    public async Task A_cut_stream_is_replayed_from_the_gateway_with_Last_Event_ID()
    {
        await using var upstream = await McpFixtures.StartEverythingHttpAsync();
        await using var gateway = await McpGatewayHost.StartAsync(McpGatewayHost.HttpServer("everything", new Uri(upstream.BaseUrl, "/mcp")));
        var endpoint = gateway.Endpoint("everything");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        using var init = await http.SendAsync(Post(endpoint,
            """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"resume-test","version":"1"}}}""", null));
        Assert.Equal(HttpStatusCode.OK, init.StatusCode);
        var session = init.Headers.GetValues("Mcp-Session-Id").Single();
        using (var initialized = await http.SendAsync(Post(endpoint, """{"jsonrpc":"2.0","method":"notifications/initialized"}""", session)))
        {
            Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        }

        string? lastEventId = null;
        var before = new List<double>();
        using (var call = await http.SendAsync(Post(endpoint,
            """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"trigger-long-running-operation","arguments":{"duration":3,"steps":3},"_meta":{"progressToken":"p-1"}}}""",
            session), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
            Assert.Equal("text/event-stream", call.Content.Headers.ContentType?.MediaType);
            await using var events = SseParser.Create(await call.Content.ReadAsStreamAsync()).EnumerateAsync().GetAsyncEnumerator();
            while (before.Count == 0)
            {
                Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)), "the stream ended before the first progress event");
                lastEventId = events.Current.EventId ?? lastEventId;
                if (events.Current.Data.Length > 0 && IsProgress(JsonDocument.Parse(events.Current.Data).RootElement, out var p))
                {
                    before.Add(p);
                }
            }
        } // cut: the response is dropped after the first progress event
        Assert.NotNull(lastEventId);
        output.WriteLine($"cut after progress {before[0]}, Last-Event-ID {lastEventId}");

        var resume = new HttpRequestMessage(HttpMethod.Get, endpoint);
        resume.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        resume.Headers.Add("Mcp-Session-Id", session);
        resume.Headers.Add("MCP-Protocol-Version", "2025-11-25");
        resume.Headers.Add("Last-Event-ID", lastEventId);
        using var resumed = await http.SendAsync(resume, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        var after = new List<double>();
        JsonElement? result = null;
        await using (var events = SseParser.Create(await resumed.Content.ReadAsStreamAsync()).EnumerateAsync().GetAsyncEnumerator())
        {
            while (result is null)
            {
                Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)),
                    $"the replay ended before the result; progress seen: {string.Join(", ", after)}");
                if (events.Current.Data.Length == 0)
                {
                    continue;
                }
                var message = JsonDocument.Parse(events.Current.Data).RootElement.Clone();
                output.WriteLine($"replayed {events.Current.EventId}: {events.Current.Data}");
                if (IsProgress(message, out var p))
                {
                    after.Add(p);
                }
                else if (message.TryGetProperty("result", out _))
                {
                    result = message;
                }
            }
        }
        Assert.Equal(5, result.Value.GetProperty("id").GetInt32());
        Assert.Contains("Long running operation completed", result.Value.GetProperty("result").GetRawText(), StringComparison.OrdinalIgnoreCase);
        // Nothing seen before the cut comes again, and what came after it arrives in order.
        Assert.DoesNotContain(before[0], after);
        Assert.Equal(after.OrderBy(x => x), after);
    }
}
