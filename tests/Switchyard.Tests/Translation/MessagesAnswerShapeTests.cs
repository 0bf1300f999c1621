using System.Net;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Simulators.Google;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Providers.Bedrock;
using Switchyard.Tests.Providers.Google;
using Xunit;

namespace Switchyard.Tests.Translation;

/// <summary>
/// /v1/messages answered by other providers carries every field Anthropic's own API always sends: <c>stop_sequence</c>,
/// the cache counts (and their TTL split) and <c>service_tier</c> in the message and message_start, and the cumulative
/// counts in message_delta's usage, as Anthropic sends them.
/// </summary>
public sealed class MessagesAnswerShapeTests
{
    /// <summary>A gateway pointed at one simulated provider, with the headers a messages client sends to reach it.</summary>
    private sealed class Target(Func<ValueTask> dispose) : IAsyncDisposable
    {
        public required TestGateway Gateway { get; init; }

        public required (string, string)[] Headers { get; init; }

        public required string Model { get; init; }

        public Action<int>? CacheReads { get; init; }

        public ValueTask DisposeAsync() => dispose();
    }

    private static async Task<Target> StartAsync(string provider)
    {
        switch (provider)
        {
            case "openai":
                var sim = await OpenAiSimulator.StartAsync();
                var gw = await TestGateway.StartAsync();
                return new Target(async () => { await gw.DisposeAsync(); await sim.DisposeAsync(); })
                {
                    Gateway = gw,
                    Model = "gpt-4o-mini",
                    Headers = [("x-portkey-provider", "openai"), ("x-api-key", "sk-client"), ("anthropic-version", "2023-06-01"), ("x-portkey-custom-host", sim.BaseUrl.ToString())],
                };
            case "google":
                var google = await GoogleHarness.StartAsync();
                return new Target(google.DisposeAsync)
                {
                    Gateway = google.Gw,
                    Model = GoogleHarness.Model,
                    Headers = [("x-portkey-provider", "google"), ("x-api-key", google.Sim.ApiKey), ("anthropic-version", "2023-06-01")],
                    CacheReads = n => google.Sim.Enqueue(new GeminiReply { CachedTokens = n }),
                };
            default:
                var bedrock = await BedrockHarness.StartAsync();
                return new Target(bedrock.DisposeAsync)
                {
                    Gateway = bedrock.Gateway,
                    Model = BedrockHarness.Model,
                    Headers = [.. BedrockHarness.Headers(), ("anthropic-version", "2023-06-01")],
                };
        }
    }

    private static string Request(string model, bool stream) =>
        $$"""{"model":"{{model}}","max_tokens":200,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hello there"}]}""";

    private static string[] Names(JsonElement o) => [.. o.EnumerateObject().Select(p => p.Name)];

    /// <summary>A Message's usage as Anthropic sends it: these fields, in this order, numbers and the tier.</summary>
    private static void AssertFullUsage(JsonElement usage)
    {
        Assert.Equal(["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "cache_creation", "output_tokens", "service_tier"], Names(usage));
        foreach (var name in (string[])["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens"])
        {
            Assert.Equal(JsonValueKind.Number, usage.GetProperty(name).ValueKind);
        }
        var ttl = usage.GetProperty("cache_creation");
        Assert.Equal(["ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"], Names(ttl));
        Assert.Equal(usage.GetProperty("cache_creation_input_tokens").GetInt64(),
            ttl.GetProperty("ephemeral_5m_input_tokens").GetInt64() + ttl.GetProperty("ephemeral_1h_input_tokens").GetInt64());
        Assert.Equal("standard", usage.GetProperty("service_tier").GetString());
    }

    private static List<(string Event, JsonElement Data)> Events(string sse) =>
        sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block =>
        {
            var lines = block.Split('\n');
            var name = lines.First(l => l.StartsWith("event: ", StringComparison.Ordinal))["event: ".Length..];
            var data = lines.First(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
            return (name, JsonDocument.Parse(data).RootElement.Clone());
        }).ToList();

    [Theory]
    [InlineData("openai")]
    [InlineData("google")]
    [InlineData("bedrock")]
    public async Task A_translated_message_has_every_field_anthropic_always_sends(string provider)
    {
        await using var target = await StartAsync(provider);
        var response = await target.Gateway.SendAsync(TestGateway.Post("/v1/messages", Request(target.Model, stream: false), target.Headers));
        var message = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, message.ToString());

        Assert.Equal(["id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"], Names(message));
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal("end_turn", message.GetProperty("stop_reason").GetString());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("stop_sequence").ValueKind);
        AssertFullUsage(message.GetProperty("usage"));
        Assert.True(message.GetProperty("usage").GetProperty("input_tokens").GetInt64() > 0);
        Assert.True(message.GetProperty("usage").GetProperty("output_tokens").GetInt64() > 0);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("google")]
    [InlineData("bedrock")]
    public async Task A_translated_stream_has_every_field_anthropic_sends_in_message_start_and_message_delta(string provider)
    {
        await using var target = await StartAsync(provider);
        var response = await target.Gateway.SendAsync(TestGateway.Post("/v1/messages", Request(target.Model, stream: true), target.Headers));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = Events(await response.Content.ReadAsStringAsync());

        Assert.Equal("message_start", events[0].Event);
        var start = events[0].Data.GetProperty("message");
        Assert.Equal(["id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"], Names(start));
        Assert.Equal(JsonValueKind.Null, start.GetProperty("stop_reason").ValueKind);
        Assert.Equal(JsonValueKind.Null, start.GetProperty("stop_sequence").ValueKind);
        Assert.Equal(0, start.GetProperty("content").GetArrayLength());
        AssertFullUsage(start.GetProperty("usage"));

        var delta = events.Single(e => e.Event == "message_delta").Data;
        Assert.Equal("end_turn", delta.GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.Equal(JsonValueKind.Null, delta.GetProperty("delta").GetProperty("stop_sequence").ValueKind);
        var usage = delta.GetProperty("usage");
        Assert.Equal(["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens"], Names(usage));
        Assert.True(usage.GetProperty("input_tokens").GetInt64() > 0);
        Assert.True(usage.GetProperty("output_tokens").GetInt64() > 0);
        Assert.Equal("message_stop", events[^1].Event);

        // The streamed counts are the ones a whole answer reports.
        var whole = await target.Gateway.SendAsync(TestGateway.Post("/v1/messages", Request(target.Model, stream: false), target.Headers));
        var wholeUsage = (await whole.JsonAsync()).GetProperty("usage");
        foreach (var name in (string[])["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens"])
        {
            Assert.Equal(wholeUsage.GetProperty(name).GetInt64(), usage.GetProperty(name).GetInt64());
        }
    }

    [Fact]
    public async Task Cache_reads_a_provider_reports_are_anthropic_cache_reads_outside_input_tokens()
    {
        await using var target = await StartAsync("google");
        target.CacheReads!(2);
        var response = await target.Gateway.SendAsync(TestGateway.Post("/v1/messages", Request(target.Model, stream: false), target.Headers));
        var usage = (await response.JsonAsync()).GetProperty("usage");
        Assert.Equal(2, usage.GetProperty("cache_read_input_tokens").GetInt64());
        Assert.Equal(0, usage.GetProperty("cache_creation_input_tokens").GetInt64());

        target.CacheReads(2);
        var streamed = await target.Gateway.SendAsync(TestGateway.Post("/v1/messages", Request(target.Model, stream: true), target.Headers));
        var delta = Events(await streamed.Content.ReadAsStringAsync()).Single(e => e.Event == "message_delta").Data.GetProperty("usage");
        Assert.Equal(2, delta.GetProperty("cache_read_input_tokens").GetInt64());
        Assert.Equal(usage.GetProperty("input_tokens").GetInt64(), delta.GetProperty("input_tokens").GetInt64());
    }
}
