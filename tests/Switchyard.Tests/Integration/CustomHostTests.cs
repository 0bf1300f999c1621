using System.Net;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Integration;

/// <summary>custom_host SSRF rules through the gateway, in header mode and in configs, with TRUSTED_CUSTOM_HOSTS.</summary>
public sealed class CustomHostTests
{
    [Theory]
    [InlineData("http://169.254.169.254/latest")]
    [InlineData("http://10.0.0.8:11434")]
    [InlineData("http://192.168.1.10/v1")]
    [InlineData("http://metadata.google.internal/v1")]
    [InlineData("http://2130706433/v1")]
    [InlineData("http://[::ffff:10.0.0.1]/v1")]
    [InlineData("file:///etc/passwd")]
    public async Task Private_and_metadata_hosts_are_refused_in_header_mode(string host)
    {
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(),
            ("x-portkey-provider", "openai"), ("Authorization", "Bearer k"), ("x-portkey-custom-host", host)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("Invalid custom host", (await response.JsonAsync()).GetProperty("message").GetString());
    }

    [Fact]
    public async Task Private_hosts_are_refused_in_configs_with_the_json_path()
    {
        await using var gw = await TestGateway.StartAsync();
        var config = "{\"strategy\":{\"mode\":\"fallback\"},\"targets\":[{\"provider\":\"openai\",\"api_key\":\"k\",\"custom_host\":\"http://10.1.2.3/v1\"}]}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", config)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.StartsWith("path: targets[0].custom_host", errors[0].GetString());
    }

    [Fact]
    public async Task Trusted_custom_hosts_open_a_private_address_and_loopback_is_trusted_by_default()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Upstream = s.Upstream with { TrustedCustomHosts = "10.1.2.3,127.0.0.1" } });
        var trusted = TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "{\"provider\":\"openai\",\"api_key\":\"k\",\"custom_host\":\"http://10.1.2.3:9/v1\",\"request_timeout\":1}"));
        // Validation passes; the (unreachable) call itself is what fails.
        var response = await gw.SendAsync(trusted);
        Assert.NotEqual(HttpStatusCode.BadRequest, response.StatusCode);

        var loopback = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.HeaderMode(sim.BaseUrl)));
        Assert.Equal(HttpStatusCode.OK, loopback.StatusCode);
    }
}
