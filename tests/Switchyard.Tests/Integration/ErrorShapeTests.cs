using System.Net;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Integration;

/// <summary>Every error shape of portkey-compat.md §8 that applies before guardrails and auth exist.</summary>
public sealed class ErrorShapeTests
{
    private static async Task AssertFailure(HttpResponseMessage response, HttpStatusCode status, string messageContains)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.JsonAsync();
        Assert.Equal("failure", body.GetProperty("status").GetString());
        Assert.Contains(messageContains, body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Missing_provider_and_config_is_400()
    {
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat()));
        await AssertFailure(response, HttpStatusCode.BadRequest, "Either x-portkey-config or x-portkey-provider header is required");
    }

    [Fact]
    public async Task Unknown_provider_is_400()
    {
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-provider", "nope-ai")));
        await AssertFailure(response, HttpStatusCode.BadRequest, "Invalid provider passed");
    }

    [Fact]
    public async Task Config_that_is_not_json_is_400()
    {
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "{\"provider\":")));
        await AssertFailure(response, HttpStatusCode.BadRequest, "Invalid config passed. You need to pass a valid json");
    }

    [Fact]
    public async Task Legacy_v1_config_is_400()
    {
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "{\"mode\":\"fallback\",\"options\":[]}")));
        await AssertFailure(response, HttpStatusCode.BadRequest, "This version of config is not supported");
    }

    [Fact]
    public async Task Schema_errors_list_every_problem_with_its_path()
    {
        await using var gw = await TestGateway.StartAsync();
        var config = "{\"strategy\":{\"mode\":\"roundrobin\"},\"retry\":{\"attempts\":\"three\"},\"targets\":[{\"provider\":\"openai\",\"api_key\":\"k\",\"weight\":-1},{\"provider\":\"nope\"}]}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", config)));
        await AssertFailure(response, HttpStatusCode.BadRequest, "Invalid config passed");
        var errors = (await response.JsonAsync()).GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.StartsWith("path: strategy.mode, message:", StringComparison.Ordinal) && e.Contains("roundrobin"));
        Assert.Contains(errors, e => e.StartsWith("path: retry.attempts, message:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("path: targets[0].weight, message:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("path: targets[1].provider, message: unknown provider 'nope'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_named_config_is_400_and_lists_what_exists()
    {
        await using var gw = await TestGateway.StartAsync(new Dictionary<string, string> { ["team-a.json"] = "{\"provider\":\"openai\",\"api_key\":\"k\"}" });
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "team-b")));
        await AssertFailure(response, HttpStatusCode.BadRequest, "Config 'team-b' was not found");
        Assert.Contains("team-a", (await response.JsonAsync()).GetProperty("message").GetString());
    }

    [Fact]
    public async Task Bad_bodies_and_content_types_are_400_before_any_upstream_call()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var broken = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", "{\"model\":\"x\",", Requests.HeaderMode(sim.BaseUrl)));
        await AssertFailure(broken, HttpStatusCode.BadRequest, "not valid JSON");
        var array = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", "[1,2]", Requests.HeaderMode(sim.BaseUrl)));
        await AssertFailure(array, HttpStatusCode.BadRequest, "must be a JSON object");
        var text = TestGateway.With(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("hello") }, Requests.HeaderMode(sim.BaseUrl));
        await AssertFailure(await gw.SendAsync(text), HttpStatusCode.BadRequest, "Invalid content type");
        Assert.Empty(sim.Requests);
    }

    [Fact]
    public async Task Bad_metadata_header_is_400_when_routing_needs_it()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = $"{{\"strategy\":{{\"mode\":\"conditional\",\"conditions\":[{{\"query\":{{\"metadata.a\":1}},\"then\":\"t\"}}],\"default\":\"t\"}},\"targets\":[{Requests.Target(sim.BaseUrl, extra: "\"name\":\"t\"")}]}}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", config), ("x-portkey-metadata", "not json")));
        await AssertFailure(response, HttpStatusCode.BadRequest, "x-portkey-metadata is not valid JSON");
    }

    [Fact]
    public async Task Unknown_route_is_404_in_portkey_shape()
    {
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.Client.GetAsync("/nowhere");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("Not Found", body.GetProperty("message").GetString());
        Assert.False(body.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Endpoint_a_provider_does_not_serve_is_a_gateway_exception_that_stops_fallback()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with
        {
            Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["cerebras"] = sim.BaseUrl.ToString().TrimEnd('/') } },
        });
        var config = $"{{\"strategy\":{{\"mode\":\"fallback\"}},\"targets\":[{{\"provider\":\"cerebras\",\"api_key\":\"k\"}},{Requests.Target(sim.BaseUrl)}]}}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/images/generations", "{\"prompt\":\"a cat\"}", ("x-portkey-config", config)));
        await AssertFailure(response, HttpStatusCode.BadRequest, "imageGenerate is not supported by cerebras");
        Assert.Equal("true", response.Header("x-portkey-gateway-exception"));
        Assert.Empty(sim.Requests);
    }

    [Fact]
    public void Every_catalog_provider_has_an_adapter_so_no_request_meets_the_501_guard()
    {
        var registry = Switchyard.Core.Providers.ProviderRegistry.Default;
        foreach (var provider in Switchyard.Core.Providers.ProviderCatalog.OpenAiCompatible.Concat(Switchyard.Core.Providers.ProviderCatalog.Translated))
        {
            Assert.True(registry.TryGetProvider(provider.Slug, out var found), provider.Slug);
            Assert.NotNull(registry.AdapterFor(found));
        }
    }

    [Fact]
    public async Task Oversized_payload_is_413()
    {
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Limits = new() { MaxBodyBytes = 1024 } });
        var big = Requests.Chat(new string('x', 4096));
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", big, ("x-portkey-provider", "openai")));
        await AssertFailure(response, HttpStatusCode.RequestEntityTooLarge, "Payload size exceeds the limit");
    }

    [Fact]
    public async Task Oversized_chunked_payload_without_a_length_is_413_too()
    {
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Limits = new() { MaxBodyBytes = 1024 } });
        var content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Requests.Chat(new string('x', 4096)))));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var request = TestGateway.With(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content }, ("x-portkey-provider", "openai"));
        request.Headers.TransferEncodingChunked = true;
        await AssertFailure(await gw.SendAsync(request), HttpStatusCode.RequestEntityTooLarge, "Payload size exceeds");
    }

    [Fact]
    public async Task Errors_never_carry_stack_traces()
    {
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", "{\"model\":1e999999}", ("x-portkey-provider", "openai")));
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(" at Switchyard", text);
        Assert.DoesNotContain("Exception", text);
        Assert.NotNull(JsonDocument.Parse(text));
    }

    [Fact]
    public async Task A_guardrail_that_cannot_work_is_refused_rather_than_silently_not_enforced()
    {
        await using var gw = await TestGateway.StartAsync();
        var config = "{\"provider\":\"openai\",\"api_key\":\"k\",\"input_guardrails\":[{\"default.regexMatch\":{\"rule\":\"(\",\"not\":true},\"deny\":true}]}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", config)));
        await AssertFailure(response, HttpStatusCode.BadRequest, "Invalid config passed");
        Assert.StartsWith("path: input_guardrails[0].default.regexMatch", (await response.JsonAsync()).GetProperty("errors")[0].GetString());
    }
}
