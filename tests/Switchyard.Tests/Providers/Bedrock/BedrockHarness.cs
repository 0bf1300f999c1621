using System.Text.Json;
using Switchyard.Simulators.Bedrock;
using Switchyard.Tests.Infrastructure;

namespace Switchyard.Tests.Providers.Bedrock;

/// <summary>A Bedrock simulator and a gateway pointed at it (base URL with the region placeholder), plus request helpers.</summary>
internal sealed class BedrockHarness : IAsyncDisposable
{
    public const string KeyId = "AKIDSWITCHYARDTEST";
    public const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSIMKEY";
    public const string Model = "anthropic.claude-3-haiku-20240307-v1:0";
    public const string Region = "us-west-2";

    private BedrockHarness(BedrockSimulator sim, TestGateway gw)
    {
        Sim = sim;
        Gateway = gw;
    }

    public BedrockSimulator Sim { get; }

    public TestGateway Gateway { get; }

    /// <summary>The upstream path the gateway must call for <see cref="Model"/> (model id URL-encoded).</summary>
    public static string ConversePath(string op = "converse", string region = Region) => $"/{region}/model/anthropic.claude-3-haiku-20240307-v1%3A0/{op}";

    public static async Task<BedrockHarness> StartAsync(Func<BedrockSimulator, IReadOnlyDictionary<string, string>>? environment = null)
    {
        var sim = await BedrockSimulator.StartAsync();
        sim.AddKey(KeyId, Secret);
        var gw = await TestGateway.StartAsync(
            settings: s => s with { Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["bedrock"] = sim.BaseUrlTemplate } } },
            environment: environment?.Invoke(sim));
        return new BedrockHarness(sim, gw);
    }

    /// <summary>Header mode with static keys.</summary>
    public static (string, string)[] Headers(params (string, string)[] extra) =>
    [
        ("x-portkey-provider", "bedrock"),
        ("x-portkey-aws-access-key-id", KeyId),
        ("x-portkey-aws-secret-access-key", Secret),
        ("x-portkey-aws-region", Region),
        .. extra,
    ];

    public Task<HttpResponseMessage> ChatAsync(object body, params (string, string)[] headers) =>
        Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", JsonSerializer.Serialize(body), headers.Length > 0 ? headers : Headers()));

    public Task<HttpResponseMessage> ChatAsync(string body, params (string, string)[] headers) =>
        Gateway.SendAsync(TestGateway.Post("/v1/chat/completions", body, headers.Length > 0 ? headers : Headers()));

    /// <summary>The body the simulator received for Converse call <paramref name="index"/>.</summary>
    public JsonElement Upstream(int index = -1)
    {
        var requests = Sim.Requests;
        var r = requests[index < 0 ? requests.Count + index : index];
        return JsonDocument.Parse(r.Body).RootElement.Clone();
    }

    /// <summary>The data payloads of an SSE body, without [DONE].</summary>
    public static List<JsonElement> Chunks(string sse) =>
        sse.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l[6..].Trim())
            .Where(d => d != "[DONE]").Select(d => JsonDocument.Parse(d).RootElement.Clone()).ToList();

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Sim.DisposeAsync();
    }
}
