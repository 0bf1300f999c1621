using System.Text;
using System.Text.Json.Nodes;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Providers.Anthropic;
using Xunit;

namespace Switchyard.Tests.Caching;

/// <summary>Caching of translated answers: what is stored is what the client received, in the client's protocol.</summary>
public sealed class TranslatedCacheTests
{
    [Fact]
    public async Task A_streamed_chat_answer_from_anthropic_is_replayed_as_the_same_openai_stream()
    {
        await using var h = await AnthropicHarness.StartAsync();
        var body = new JsonObject
        {
            ["model"] = "claude-sonnet-4-5", ["max_tokens"] = 64, ["stream"] = true,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "name three rivers" }),
        }.ToJsonString();
        (string, string)[] headers = [.. AnthropicHarness.Headers, ("x-portkey-config", "{\"cache\":{\"mode\":\"simple\"}}")];

        var first = await h.Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", body, headers));
        var firstText = await first.Content.ReadAsStringAsync();
        var second = await h.Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", body, headers));
        var secondText = await second.Content.ReadAsStringAsync();

        Assert.Equal("MISS", first.Header("x-portkey-cache-status"));
        Assert.Equal("HIT", second.Header("x-portkey-cache-status"));
        Assert.Single(h.Sim.Requests);
        Assert.Equal(firstText, secondText);
        var (chunks, done) = AnthropicHarness.ParseSse(secondText);
        Assert.True(done);
        Assert.NotEmpty(chunks);
    }

    [Fact]
    public async Task A_messages_stream_is_stored_only_once_it_reached_message_stop_and_replays_identically()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        (string, string)[] headers =
        [
            ("x-portkey-config", $"{{\"cache\":{{\"mode\":\"simple\"}},\"provider\":\"openai\",\"api_key\":\"sk-x\",\"custom_host\":\"{sim.BaseUrl}\"}}"),
            ("anthropic-version", "2023-06-01"),
        ];
        var body = """{"model":"gpt-4o-mini","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"one two three"}]}""";

        var first = await gw.SendAsync(TestGateway.Post("/v1/messages", body, headers));
        var firstBytes = await first.Content.ReadAsByteArrayAsync();
        var second = await gw.SendAsync(TestGateway.Post("/v1/messages", body, headers));
        var secondBytes = await second.Content.ReadAsByteArrayAsync();

        Assert.Equal("HIT", second.Header("x-portkey-cache-status"));
        Assert.Equal(firstBytes, secondBytes);
        Assert.Contains("event: message_stop", Encoding.UTF8.GetString(secondBytes), StringComparison.Ordinal);
        Assert.Single(sim.Requests);
    }
}
