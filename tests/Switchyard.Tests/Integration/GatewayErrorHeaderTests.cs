using System.Net;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Integration;

/// <summary>The gateway's own error answers carry the same <c>x-portkey-*</c> headers as every other answer.</summary>
public sealed class GatewayErrorHeaderTests
{
    private static void AssertPortkeyHeaders(HttpResponseMessage response, string? provider, string optionIndex, bool gatewayException)
    {
        Assert.NotEmpty(response.Header("x-portkey-trace-id"));
        Assert.Equal(optionIndex, response.Header("x-portkey-last-used-option-index"));
        Assert.Equal("0", response.Header("x-portkey-retry-attempt-count"));
        Assert.Equal("DISABLED", response.Header("x-portkey-cache-status"));
        Assert.Equal(provider ?? "", response.Header("x-portkey-provider"));
        Assert.Equal(gatewayException ? "true" : "", response.Header("x-portkey-gateway-exception"));
    }

    [Fact]
    public async Task An_endpoint_the_provider_does_not_serve()
    {
        await using var gw = await TestGateway.StartAsync();
        var config = """{"strategy":{"mode":"fallback"},"targets":[{"provider":"anthropic","api_key":"k","custom_host":"http://127.0.0.1:9/v1"}]}""";
        var response = await gw.SendAsync(TestGateway.Post("/v1/images/generations", """{"model":"m","prompt":"a cat"}""", Requests.Config(config)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not supported by anthropic", (await response.JsonAsync()).GetProperty("message").GetString());
        AssertPortkeyHeaders(response, "anthropic", "config.targets[0]", gatewayException: true);
    }

    [Fact]
    public async Task A_vertex_request_without_a_model()
    {
        await using var gw = await TestGateway.StartAsync();
        var config = """{"provider":"vertex-ai","api_key":"ya29.token","vertex_project_id":"p","vertex_region":"us-central1","custom_host":"http://127.0.0.1:9"}""";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}]}""", Requests.Config(config)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("model", (await response.JsonAsync()).GetProperty("message").GetString());
        AssertPortkeyHeaders(response, "vertex-ai", "config", gatewayException: false);
    }

    [Fact]
    public async Task A_conditional_with_no_match_and_no_default()
    {
        await using var gw = await TestGateway.StartAsync();
        var config = """{"strategy":{"mode":"conditional","conditions":[{"query":{"metadata.plan":{"$eq":"paid"}},"then":"a"}]},"targets":[{"name":"a","provider":"openai","api_key":"k","custom_host":"http://127.0.0.1:9/v1"}]}""";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), [.. Requests.Config(config), ("x-portkey-metadata", """{"plan":"free"}""")]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Query router did not resolve to any valid target", (await response.JsonAsync()).GetProperty("message").GetString());
        AssertPortkeyHeaders(response, null, "config", gatewayException: false);
    }

    [Theory]
    [InlineData("""{"strategy":{"mode":"roundrobin"},"targets":[{"provider":"openai","api_key":"k"}]}""")]
    [InlineData("missing-named-config")]
    public async Task A_request_refused_before_routing_still_says_it_was_not_retried_or_cached(string config)
    {
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(config)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotEmpty(response.Header("x-portkey-trace-id"));
        Assert.Equal("0", response.Header("x-portkey-retry-attempt-count"));
        Assert.Equal("DISABLED", response.Header("x-portkey-cache-status"));
        Assert.Equal("", response.Header("x-portkey-last-used-option-index"));
    }
}
