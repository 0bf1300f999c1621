using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core;
using Switchyard.Simulators;
using Switchyard.Simulators.Google;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Providers.Google;

/// <summary>The real gateway with <c>google</c> and <c>vertex-ai</c> pointed at one <see cref="GoogleSimulator"/>.</summary>
public sealed class GoogleHarness : IAsyncDisposable
{
    public const string Project = "proj-1";
    public const string Region = "europe-west4";
    public const string VertexToken = "ya29.static-test-token";
    public const string Model = "gemini-2.5-flash";

    private GoogleHarness(GoogleSimulator sim, TestGateway gw)
    {
        Sim = sim;
        Gw = gw;
    }

    public GoogleSimulator Sim { get; }

    public TestGateway Gw { get; }

    public static async Task<GoogleHarness> StartAsync(Func<GatewaySettings, GoogleSimulator, GatewaySettings>? more = null, IReadOnlyDictionary<string, string>? configs = null)
    {
        var sim = await GoogleSimulator.StartAsync();
        sim.AcceptToken(VertexToken);
        var gw = await TestGateway.StartAsync(configs, settings =>
        {
            var s = settings with
            {
                Upstream = settings.Upstream with
                {
                    BaseUrls = new Dictionary<string, string>
                    {
                        ["google"] = sim.BaseUrl,
                        // The Vertex adapter fills in {region}; the simulator sees it in the path prefix.
                        ["vertex-ai"] = sim.BaseUrl + "/vx/{region}",
                    },
                },
            };
            return more is null ? s : more(s, sim);
        });
        return new GoogleHarness(sim, gw);
    }

    public (string, string)[] Headers(string provider) => provider switch
    {
        "google" => [("x-portkey-provider", "google"), ("Authorization", "Bearer " + Sim.ApiKey)],
        _ => [("x-portkey-provider", "vertex-ai"), ("Authorization", "Bearer " + VertexToken), ("x-portkey-vertex-project-id", Project), ("x-portkey-vertex-region", Region)],
    };

    /// <summary>The upstream path the simulator must see for <paramref name="provider"/>.</summary>
    public static string ExpectedPath(string provider, bool stream, string model = Model) => provider == "google"
        ? $"/v1beta/models/{model}:{(stream ? "streamGenerateContent" : "generateContent")}"
        : $"/vx/{Region}/v1/projects/{Project}/locations/{Region}/publishers/google/models/{model}:{(stream ? "streamGenerateContent" : "generateContent")}";

    public Task<HttpResponseMessage> ChatAsync(string provider, JsonObject body) =>
        Gw.SendAsync(TestGateway.Post("/v1/chat/completions", body.ToJsonString(), Headers(provider)));

    public async Task<JsonElement> ChatOkAsync(string provider, JsonObject body)
    {
        var response = await ChatAsync(provider, body);
        var json = await response.JsonAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {json}");
        return json;
    }

    /// <summary>Streams a chat and returns the parsed chunks (up to <c>[DONE]</c>, which must be there).</summary>
    public async Task<List<JsonElement>> StreamAsync(string provider, JsonObject body)
    {
        var response = await Gw.SendAsync(TestGateway.Post("/v1/chat/completions", body.ToJsonString(), Headers(provider)), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return ParseSse(await response.Content.ReadAsStringAsync());
    }

    public static List<JsonElement> ParseSse(string text)
    {
        var chunks = new List<JsonElement>();
        var done = false;
        foreach (var line in text.Split('\n'))
        {
            var l = line.TrimEnd('\r');
            if (!l.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }
            var data = l[6..];
            if (data == "[DONE]")
            {
                done = true;
                continue;
            }
            Assert.False(done, "data after [DONE]");
            chunks.Add(JsonDocument.Parse(data).RootElement.Clone());
        }
        Assert.True(done, "the stream must end with [DONE]: " + text);
        return chunks;
    }

    /// <summary>The one model request the simulator saw, checked for path and method.</summary>
    public RecordedRequest Upstream(string provider, bool stream, string model = Model)
    {
        var seen = Assert.Single(Sim.ModelRequests);
        Assert.Equal("POST", seen.Method);
        Assert.Equal(ExpectedPath(provider, stream, model), seen.Path);
        Assert.Equal(stream ? "?alt=sse" : "", seen.Query);
        if (provider == "google")
        {
            Assert.Equal(Sim.ApiKey, seen.Headers["x-goog-api-key"]);
            Assert.False(seen.Headers.ContainsKey("Authorization"));
        }
        else
        {
            Assert.Equal("Bearer " + VertexToken, seen.Headers["Authorization"]);
        }
        return seen;
    }

    public static JsonObject BodyOf(RecordedRequest request) => (JsonObject)JsonNode.Parse(request.Body)!;

    public static JsonObject Chat(string text, bool stream = false, bool includeUsage = false)
    {
        var body = new JsonObject
        {
            ["model"] = Model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = text }),
        };
        if (stream)
        {
            body["stream"] = true;
            if (includeUsage)
            {
                body["stream_options"] = new JsonObject { ["include_usage"] = true };
            }
        }
        return body;
    }

    public async ValueTask DisposeAsync()
    {
        await Gw.DisposeAsync();
        await Sim.DisposeAsync();
    }
}
