using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Switchyard.Core;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Pipeline;

/// <summary>The per-attempt timeout runs on the engine's clock: a test clock that jumps a minute ends a hung attempt at once.</summary>
public sealed class AttemptTimeoutClockTests
{
    /// <summary>An upstream that never answers, and says when it has been called.</summary>
    private sealed class HungUpstream : HttpMessageHandler
    {
        public TaskCompletionSource Called { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            Called.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        }
    }

    [Fact]
    public async Task A_request_timeout_fires_when_the_engine_clock_passes_it_not_the_wall_clock()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        var upstream = new HungUpstream();
        var configDir = Directory.CreateTempSubdirectory("switchyard-timeout-clock-").FullName;
        var settings = TestGateway.FastSettings(configDir);
        settings = settings with { Logs = settings.Logs with { Store = "none" } };
        await using var engine = new SwitchyardEngine(settings, new SwitchyardEngineOptions
        {
            Environment = _ => null,
            Time = clock,
            UpstreamHandler = upstream,
        });
        engine.Start();
        using var http = new HttpClient(new SwitchyardHandler(engine)) { Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://switchyard.invalid/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-portkey-provider", "openai");
        request.Headers.Add("Authorization", "Bearer sk-test");
        // One minute: on the wall clock this test would wait that long (and fail its bound below).
        request.Headers.Add("x-portkey-request-timeout", "60000");

        var answer = http.SendAsync(request);
        await upstream.Called.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(answer.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(59));
        await Task.Delay(200); // a jump short of the timeout must not end the attempt
        Assert.False(answer.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));

        using var response = await answer.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.RequestTimeout, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("60000ms", body.RootElement.GetProperty("error").GetProperty("message").GetString());
    }
}
