using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Simulators.Google;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Providers.Google;

/// <summary>Vertex AI credentials (static token, service account key, workload identity), URLs and the AI Studio key.</summary>
public sealed class VertexAuthTests
{
    private const string Email = "switchyard-test@proj-1.iam.gserviceaccount.com";

    private static string ServiceAccountJson(RSA key, string tokenUri, string? projectId = "proj-sa") => new JsonObject
    {
        ["type"] = "service_account",
        ["project_id"] = projectId,
        ["private_key_id"] = "key-1",
        ["private_key"] = key.ExportPkcs8PrivateKeyPem(),
        ["client_email"] = Email,
        ["client_id"] = "1234567890",
        ["token_uri"] = tokenUri,
    }.ToJsonString();

    private static string VertexConfig(JsonObject fields)
    {
        fields["provider"] = "vertex-ai";
        return fields.ToJsonString();
    }

    [Fact]
    public async Task Service_account_key_mints_one_token_for_two_requests_and_the_simulator_accepts_it()
    {
        await using var h = await GoogleHarness.StartAsync();
        using var rsa = RSA.Create(2048);
        h.Sim.RegisterServiceAccount(Email, RSA.Create(rsa.ExportParameters(false)));
        var config = VertexConfig(new JsonObject
        {
            ["vertex_region"] = "us-east5",
            ["vertex_service_account_json"] = JsonNode.Parse(ServiceAccountJson(rsa, h.Sim.TokenUri)),
        });

        for (var i = 0; i < 2; i++)
        {
            var response = await h.Gw.SendAsync(TestGateway.Post("/v1/chat/completions", GoogleHarness.Chat("hi " + i).ToJsonString(), ("x-portkey-config", config)));
            var json = await response.JsonAsync();
            Assert.True(response.IsSuccessStatusCode, json.ToString());
            Assert.Equal("echo: hi " + i, json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        }

        Assert.Equal(1, h.Sim.TokensMinted);
        var token = h.Sim.Requests.Single(r => r.Path == "/token");
        Assert.Equal("application/x-www-form-urlencoded", token.Headers["Content-Type"].Split(';')[0]);
        Assert.Contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer", token.BodyText);
        Assert.Equal(200, token.StatusCode);
        var claims = h.Sim.LastAssertionClaims!;
        Assert.Equal(Email, claims["iss"]!.GetValue<string>());
        Assert.Equal("https://www.googleapis.com/auth/cloud-platform", claims["scope"]!.GetValue<string>());
        Assert.Equal(GoogleSimulator.GoogleTokenAudience, claims["aud"]!.GetValue<string>());
        var calls = h.Sim.ModelRequests;
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c =>
        {
            // The project comes from the key file when vertex_project_id is absent.
            Assert.Equal($"/vx/us-east5/v1/projects/proj-sa/locations/us-east5/publishers/google/models/{GoogleHarness.Model}:generateContent", c.Path);
            Assert.Equal("Bearer ya29.sim-1", c.Headers["Authorization"]);
            Assert.Equal(200, c.StatusCode);
        });
    }

    [Fact]
    public async Task Service_account_signed_by_an_unknown_key_is_refused_by_the_token_endpoint()
    {
        await using var h = await GoogleHarness.StartAsync();
        using var registered = RSA.Create(2048);
        using var other = RSA.Create(2048);
        h.Sim.RegisterServiceAccount(Email, RSA.Create(registered.ExportParameters(false)));
        var config = VertexConfig(new JsonObject
        {
            ["vertex_project_id"] = "p",
            ["vertex_service_account_json"] = JsonNode.Parse(ServiceAccountJson(other, h.Sim.TokenUri)),
        });
        var response = await h.Gw.SendAsync(TestGateway.Post("/v1/chat/completions", GoogleHarness.Chat("hi").ToJsonString(), ("x-portkey-config", config)));
        Assert.Equal(502, (int)response.StatusCode);
        Assert.Contains("could not obtain an access token", (await response.JsonAsync()).GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(0, h.Sim.TokensMinted);
        Assert.Empty(h.Sim.ModelRequests);
    }

    [Fact]
    public async Task Workload_auth_type_takes_the_token_from_the_metadata_server()
    {
        await using var h = await GoogleHarness.StartAsync((s, sim) => s with { Gcp = s.Gcp with { MetadataHost = sim.MetadataHost } });
        var config = VertexConfig(new JsonObject { ["vertex_project_id"] = "wl-proj", ["vertex_region"] = "global", ["vertex_auth_type"] = "workload" });
        for (var i = 0; i < 2; i++)
        {
            var response = await h.Gw.SendAsync(TestGateway.Post("/v1/chat/completions", GoogleHarness.Chat("hello").ToJsonString(), ("x-portkey-config", config)));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(1, h.Sim.MetadataTokensIssued);
        var metadata = h.Sim.Requests.Single(r => r.Path.StartsWith("/computeMetadata", StringComparison.Ordinal));
        Assert.Equal("Google", metadata.Headers["Metadata-Flavor"]);
        var calls = h.Sim.ModelRequests;
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal("Bearer ya29.metadata-1", c.Headers["Authorization"]));
        // Region "global": the simulator override keeps the placeholder slot, the path says global.
        Assert.All(calls, c => Assert.Equal($"/vx/global/v1/projects/wl-proj/locations/global/publishers/google/models/{GoogleHarness.Model}:generateContent", c.Path));
    }

    [Fact]
    public async Task Gcp_auth_mode_workload_makes_the_metadata_server_the_default_credential()
    {
        await using var sim = await GoogleSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with
        {
            Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["vertex-ai"] = sim.BaseUrl } },
            Gcp = new() { AuthMode = "workload", MetadataHost = sim.MetadataHost },
        });
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", GoogleHarness.Chat("hi").ToJsonString(),
            ("x-portkey-provider", "vertex-ai"), ("x-portkey-vertex-project-id", "env-proj"), ("Authorization", "Bearer client-key-not-a-google-token")));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var call = Assert.Single(sim.ModelRequests);
        Assert.Equal("Bearer ya29.metadata-1", call.Headers["Authorization"]);
        Assert.Equal($"/v1/projects/env-proj/locations/us-central1/publishers/google/models/{GoogleHarness.Model}:generateContent", call.Path);
    }

    [Fact]
    public void Gcp_settings_are_read_from_the_environment()
    {
        var env = new Dictionary<string, string> { ["GCP_AUTH_MODE"] = "Workload", ["GCE_METADATA_HOST"] = "169.254.169.254" };
        var settings = Switchyard.Core.GatewaySettings.FromEnvironment(n => env.GetValueOrDefault(n));
        Assert.Equal("workload", settings.Gcp.AuthMode);
        Assert.Equal("169.254.169.254", settings.Gcp.MetadataHost);
        var defaults = Switchyard.Core.GatewaySettings.FromEnvironment(_ => null);
        Assert.Null(defaults.Gcp.AuthMode);
        Assert.Equal("metadata.google.internal", defaults.Gcp.MetadataHost);
    }

    [Fact]
    public async Task Metadata_server_requires_the_metadata_flavor_header()
    {
        await using var sim = await GoogleSimulator.StartAsync();
        using var client = new HttpClient();
        var refused = await client.GetAsync(sim.BaseUrl + "/computeMetadata/v1/instance/service-accounts/default/token");
        Assert.Equal(403, (int)refused.StatusCode);
        Assert.Equal(0, sim.MetadataTokensIssued);
    }

    [Fact]
    public async Task Vertex_token_the_simulator_did_not_issue_gets_401_unauthenticated()
    {
        await using var h = await GoogleHarness.StartAsync();
        var response = await h.Gw.SendAsync(TestGateway.Post("/v1/chat/completions", GoogleHarness.Chat("hi").ToJsonString(),
            ("x-portkey-provider", "vertex-ai"), ("Authorization", "Bearer forged"), ("x-portkey-vertex-project-id", "p")));
        Assert.Equal(401, (int)response.StatusCode);
        var json = await response.JsonAsync();
        Assert.Equal("UNAUTHENTICATED", json.GetProperty("error").GetProperty("type").GetString());
        Assert.StartsWith("vertex-ai error: Request had invalid authentication credentials", json.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("Bearer forged", Assert.Single(h.Sim.ModelRequests).Headers["Authorization"]);
    }

    [Fact]
    public async Task Vertex_without_a_project_is_refused_before_any_upstream_call()
    {
        await using var h = await GoogleHarness.StartAsync();
        var response = await h.Gw.SendAsync(TestGateway.Post("/v1/chat/completions", GoogleHarness.Chat("hi").ToJsonString(),
            ("x-portkey-provider", "vertex-ai"), ("Authorization", "Bearer " + GoogleHarness.VertexToken)));
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("vertex_project_id", (await response.JsonAsync()).GetProperty("message").GetString());
        Assert.Empty(h.Sim.Requests);
    }

    [Fact]
    public async Task Ai_studio_key_travels_in_the_header_never_in_the_url()
    {
        await using var h = await GoogleHarness.StartAsync();
        await h.ChatOkAsync("google", GoogleHarness.Chat("hi"));
        await h.StreamAsync("google", GoogleHarness.Chat("hi", stream: true));
        Assert.All(h.Sim.ModelRequests, r =>
        {
            Assert.DoesNotContain(h.Sim.ApiKey, r.Path + r.Query);
            Assert.DoesNotContain("key=", r.Query);
            Assert.Equal(h.Sim.ApiKey, r.Headers["x-goog-api-key"]);
        });
    }

    [Fact]
    public async Task Ai_studio_wrong_key_is_a_400_and_a_missing_key_a_403()
    {
        await using var h = await GoogleHarness.StartAsync();
        var wrong = await h.Gw.SendAsync(TestGateway.Post("/v1/chat/completions", GoogleHarness.Chat("hi").ToJsonString(),
            ("x-portkey-provider", "google"), ("Authorization", "Bearer AIza-wrong")));
        Assert.Equal(400, (int)wrong.StatusCode);
        var error = (await wrong.JsonAsync()).GetProperty("error");
        Assert.Equal("google error: API key not valid. Please pass a valid API key.", error.GetProperty("message").GetString());
        Assert.Equal("INVALID_ARGUMENT", error.GetProperty("type").GetString());

        var missing = await h.Gw.SendAsync(TestGateway.Post("/v1/chat/completions", GoogleHarness.Chat("hi").ToJsonString(),
            ("x-portkey-config", """{"provider":"google"}""")));
        Assert.Equal(403, (int)missing.StatusCode);
        Assert.Equal("PERMISSION_DENIED", (await missing.JsonAsync()).GetProperty("error").GetProperty("type").GetString());
        Assert.False(h.Sim.ModelRequests[^1].Headers.ContainsKey("x-goog-api-key"));
    }

    [Fact]
    public async Task Simulator_streams_a_json_array_without_alt_sse()
    {
        await using var sim = await GoogleSimulator.StartAsync();
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, sim.BaseUrl + "/v1beta/models/gemini-2.5-flash:streamGenerateContent")
        {
            Content = new StringContent("""{"contents":[{"role":"user","parts":[{"text":"one two"}]}]}"""),
        };
        request.Headers.Add("x-goog-api-key", sim.ApiKey);
        var text = await (await client.SendAsync(request)).Content.ReadAsStringAsync();
        Assert.StartsWith("[{", text);
        Assert.Contains("}\r\n,{", text);
        Assert.EndsWith("}]", text);
        var events = JsonDocument.Parse(text).RootElement;
        Assert.Equal(3, events.GetArrayLength());
        Assert.Equal("STOP", events[2].GetProperty("candidates")[0].GetProperty("finishReason").GetString());
    }
}
