using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Simulators.Anthropic;
using Switchyard.Tests.Infrastructure;

namespace Switchyard.Tests.Providers.Anthropic;

/// <summary>An Anthropic simulator with a gateway whose <c>anthropic</c> base URL points at it.</summary>
internal sealed class AnthropicHarness : IAsyncDisposable
{
    public const string Key = "sk-ant-test";

    private AnthropicHarness(AnthropicSimulator sim, TestGateway gateway)
    {
        Sim = sim;
        Gateway = gateway;
    }

    public AnthropicSimulator Sim { get; }

    public TestGateway Gateway { get; }

    /// <param name="time">The gateway's clock; the system clock when null.</param>
    public static async Task<AnthropicHarness> StartAsync(IReadOnlyDictionary<string, string>? configs = null, TimeProvider? time = null)
    {
        var sim = await AnthropicSimulator.StartAsync();
        sim.RequiredApiKey = Key;
        var gateway = await TestGateway.StartAsync(configs, settings => settings with
        {
            Upstream = settings.Upstream with { BaseUrls = new Dictionary<string, string> { ["anthropic"] = sim.BaseUrl.ToString() } },
        }, time: time);
        return new AnthropicHarness(sim, gateway);
    }

    public static (string, string)[] Headers => [("x-portkey-provider", "anthropic"), ("Authorization", "Bearer " + Key)];

    /// <summary>POSTs a chat request in header mode.</summary>
    public Task<HttpResponseMessage> ChatAsync(JsonObject body, HttpCompletionOption option = HttpCompletionOption.ResponseContentRead) =>
        Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", body.ToJsonString(), Headers), option);

    public async Task<JsonObject> ChatJsonAsync(JsonObject body)
    {
        var response = await ChatAsync(body);
        var text = await response.Content.ReadAsStringAsync();
        Xunit.Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return (JsonObject)JsonNode.Parse(text)!;
    }

    /// <summary>The data payloads of a streamed chat (JSON objects), and whether it ended with [DONE].</summary>
    public async Task<(List<JsonObject> Chunks, bool Done)> StreamAsync(JsonObject body)
    {
        var response = await ChatAsync(body, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();
        Xunit.Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        Xunit.Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return ParseSse(text);
    }

    public static (List<JsonObject> Chunks, bool Done) ParseSse(string text)
    {
        var chunks = new List<JsonObject>();
        var done = false;
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }
            var data = line[6..].Trim();
            if (data == "[DONE]")
            {
                done = true;
                continue;
            }
            chunks.Add((JsonObject)JsonNode.Parse(data)!);
        }
        return (chunks, done);
    }

    public static JsonObject Chat(params JsonNode[] messages) => new()
    {
        ["model"] = "claude-sonnet-4-5",
        ["messages"] = new JsonArray(messages),
    };

    public static JsonObject User(string text) => new() { ["role"] = "user", ["content"] = text };

    public static string Json(JsonNode? node) => node?.ToJsonString() ?? "null";

    public static JsonNode Parse(string json) => JsonNode.Parse(json)!;

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Sim.DisposeAsync();
    }
}

internal static class JsonAssert
{
    /// <summary>Structural JSON equality (key order ignored).</summary>
    public static void Equal(string expected, JsonNode? actual) =>
        Xunit.Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}\nactual   {actual?.ToJsonString(new JsonSerializerOptions { WriteIndented = false })}");
}
