using System.Net;
using System.Text;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Integration;

/// <summary>Header mode: the gateway forwards an OpenAI request untouched and relays the answer with Portkey's headers.</summary>
public sealed class PassthroughTests
{
    [Fact]
    public async Task Chat_in_header_mode_reaches_the_upstream_byte_for_byte_and_answers_with_portkey_headers()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        // Odd spacing and key order: any re-serialisation by the gateway would show.
        var body = "{ \"messages\": [{\"role\":\"user\",\"content\":\"hi  there\"}],\n \"model\" : \"gpt-4o-mini\", \"temperature\": 0.50 }";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", body, Requests.HeaderMode(sim.BaseUrl)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.JsonAsync();
        Assert.Equal("echo: hi  there", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("config", response.Header("x-portkey-last-used-option-index"));
        Assert.Equal("0", response.Header("x-portkey-retry-attempt-count"));
        Assert.Equal("openai", response.Header("x-portkey-provider"));
        Assert.True(Guid.TryParse(response.Header("x-portkey-trace-id"), out _));

        var seen = Assert.Single(sim.Requests);
        Assert.Equal(body, seen.BodyText);
        Assert.Equal("/v1/chat/completions", seen.Path);
        Assert.Equal("Bearer " + Requests.Key, seen.Headers["Authorization"]);
        Assert.False(seen.Headers.Keys.Any(k => k.StartsWith("x-portkey-", StringComparison.OrdinalIgnoreCase)), "gateway controls must not leak upstream");
    }

    [Fact]
    public async Task Trace_id_is_echoed_and_upstream_headers_are_relayed()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "alpha" });
        await using var gw = await TestGateway.StartAsync();
        var request = TestGateway.Post("/v1/chat/completions", Requests.Chat(), [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-trace-id", "trace-123")]);
        var response = await gw.SendAsync(request);
        Assert.Equal("trace-123", response.Header("x-portkey-trace-id"));
        Assert.Equal("alpha", response.Header("x-simulator-name"));
    }

    [Fact]
    public async Task Embeddings_and_models_and_the_rest_of_the_surface_pass_through()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var embed = await gw.SendAsync(TestGateway.Post("/v1/embeddings", "{\"model\":\"text-embedding-3-small\",\"input\":[\"a\",\"b\"]}", Requests.HeaderMode(sim.BaseUrl)));
        Assert.Equal(HttpStatusCode.OK, embed.StatusCode);
        Assert.Equal(2, (await embed.JsonAsync()).GetProperty("data").GetArrayLength());

        var list = await gw.SendAsync(TestGateway.With(new HttpRequestMessage(HttpMethod.Get, "/v1/models"), Requests.HeaderMode(sim.BaseUrl)));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal("list", (await list.JsonAsync()).GetProperty("object").GetString());

        var moderation = await gw.SendAsync(TestGateway.Post("/v1/moderations", "{\"input\":\"hello\"}", Requests.HeaderMode(sim.BaseUrl)));
        Assert.Equal(HttpStatusCode.OK, moderation.StatusCode);

        var speech = await gw.SendAsync(TestGateway.Post("/v1/audio/speech", "{\"model\":\"tts-1\",\"input\":\"hi\",\"voice\":\"alloy\"}", Requests.HeaderMode(sim.BaseUrl)));
        Assert.Equal(HttpStatusCode.OK, speech.StatusCode);
        Assert.Equal("audio/mpeg", speech.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(await speech.Content.ReadAsByteArrayAsync());

        // Multipart goes through with the client's boundary intact.
        using var form = new MultipartFormDataContent("----switchyard-boundary");
        form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes("RIFF....WAVE")), "file", "clip.wav");
        form.Add(new StringContent("whisper-1"), "model");
        var text = await gw.SendAsync(TestGateway.With(new HttpRequestMessage(HttpMethod.Post, "/v1/audio/transcriptions") { Content = form }, Requests.HeaderMode(sim.BaseUrl)));
        Assert.Equal(HttpStatusCode.OK, text.StatusCode);
        Assert.Contains("clip.wav", (await text.JsonAsync()).GetProperty("text").GetString());
        Assert.Contains("----switchyard-boundary", sim.Requests[^1].Headers["Content-Type"]);
    }

    [Fact]
    public async Task Upstream_errors_pass_through_with_their_status_and_body()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", Requests.HeaderMode(sim.BaseUrl)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.JsonAsync()).GetProperty("error");
        Assert.Equal("you must provide a model parameter", error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Forward_headers_and_provider_fields_reach_the_upstream()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var request = TestGateway.Post("/v1/chat/completions", Requests.Chat(),
            [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-forward-headers", "x-team, x-request-source"), ("x-team", "search"),
             ("x-request-source", "batch"), ("x-not-forwarded", "1"), ("x-portkey-openai-organization", "org-42")]);
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(request)).StatusCode);
        var seen = sim.Requests[^1];
        Assert.Equal("search", seen.Headers["x-team"]);
        Assert.Equal("batch", seen.Headers["x-request-source"]);
        Assert.Equal("org-42", seen.Headers["OpenAI-Organization"]);
        Assert.False(seen.Headers.ContainsKey("x-not-forwarded"));
    }

    [Fact]
    public async Task Malformed_upstream_json_is_relayed_as_sent()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        sim.Enqueue(SimulatedFault.MalformedJson());
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.HeaderMode(sim.BaseUrl)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => System.Text.Json.JsonDocument.Parse(text));
    }
}
