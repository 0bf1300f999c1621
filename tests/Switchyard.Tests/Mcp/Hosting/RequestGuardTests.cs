using System.Net;
using System.Text;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Hosting;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Mcp.Hosting;

/// <summary>The Host/Origin guard against DNS rebinding, CORS for browser clients, and the body cap, on the real MCP listener.</summary>
public sealed class RequestGuardTests
{
    private static async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string messageStart)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        var body = System.Text.Json.JsonDocument.Parse(text).RootElement;
        Assert.Equal("2.0", body.GetProperty("jsonrpc").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("id").ValueKind);
        Assert.Equal(-32000, body.GetProperty("error").GetProperty("code").GetInt32());
        Assert.StartsWith(messageStart, body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Default_hosts_are_loopback_on_any_port_plus_the_base_url_host()
    {
        var guard = new McpRequestGuard(new McpOptions(), new Uri("https://mcp.example.com/"));
        foreach (var ok in new[] { "localhost", "LOCALHOST:8788", "127.0.0.1", "127.0.0.1:1234", "[::1]", "[::1]:8788", "mcp.example.com", "mcp.example.com:443" })
        {
            Assert.True(guard.IsAllowedHost(ok), ok);
        }
        foreach (var bad in new[] { "", "evil.example.com", "127.0.0.2", "localhost.evil.com", "mcp.example.com.evil.com", "example.com" })
        {
            Assert.False(guard.IsAllowedHost(bad), bad);
        }
        Assert.True(guard.IsAllowedOrigin("http://localhost:6274"));
        Assert.True(guard.IsAllowedOrigin("https://mcp.example.com"));
        Assert.False(guard.IsAllowedOrigin("http://evil.example.com"));
        Assert.False(guard.IsAllowedOrigin("null"));
        Assert.False(new McpRequestGuard(new McpOptions()).IsAllowedHost("mcp.example.com"));
    }

    [Fact]
    public void Configured_hosts_replace_the_defaults_and_a_star_allows_any()
    {
        var guard = new McpRequestGuard(new McpOptions { AllowedHosts = ["mcp.internal", "gw.example.com:8443"], AllowedOrigins = ["https://app.example.com/"] },
            new Uri("https://base.example.com"));
        Assert.True(guard.IsAllowedHost("mcp.internal:8788"));
        Assert.True(guard.IsAllowedHost("gw.example.com:8443"));
        Assert.False(guard.IsAllowedHost("gw.example.com:8444"));
        Assert.False(guard.IsAllowedHost("localhost"));
        Assert.False(guard.IsAllowedHost("base.example.com"));
        Assert.True(guard.IsAllowedOrigin("https://APP.example.com"));
        Assert.False(guard.IsAllowedOrigin("https://app.example.com:8443"));
        Assert.True(guard.IsAllowedOrigin("http://mcp.internal:3000"));

        var open = new McpRequestGuard(new McpOptions { AllowedHosts = ["*"], AllowedOrigins = ["*"] });
        Assert.True(open.IsAllowedHost("evil.example.com"));
        Assert.True(open.IsAllowedOrigin("http://evil.example.com"));
        Assert.True(open.IsAllowedOrigin("null"));
    }

    [Fact]
    public async Task A_foreign_host_or_origin_is_refused_with_403_as_the_conformance_suite_expects()
    {
        await using var gw = await McpHostingGateway.StartAsync(ServerMode.All);
        // The conformance suite's dns-rebinding-protection scenario: Host and Origin of an attacker's name.
        var rebinding = await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Host", "evil.example.com"), ("Origin", "http://evil.example.com")));
        await AssertRefusedAsync(rebinding, HttpStatusCode.Forbidden, "Forbidden: Host 'evil.example.com' is not allowed (MCP_ALLOWED_HOSTS)");
        var origin = await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Origin", "http://evil.example.com")));
        await AssertRefusedAsync(origin, HttpStatusCode.Forbidden, "Forbidden: Origin 'http://evil.example.com' is not allowed (MCP_ALLOWED_ORIGINS)");
        // Its second half: the server's own loopback Host and Origin pass the guard (what answers next is the proxy's).
        var self = gw.McpUrl.Authority;
        var valid = await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Origin", "http://" + self)));
        Assert.NotEqual(HttpStatusCode.Forbidden, valid.StatusCode);
        Assert.Equal("http://" + self, valid.Headers.GetValues("Access-Control-Allow-Origin").Single());
        // The guard covers MCP endpoint paths only: health has no Host check.
        Assert.Equal(HttpStatusCode.OK, (await gw.Mcp.SendAsync(TestGateway.With(new HttpRequestMessage(HttpMethod.Get, "/health"), ("Host", "evil.example.com")))).StatusCode);
    }

    [Fact]
    public async Task Configured_hosts_and_origins_are_honoured_and_get_cors_headers()
    {
        await using var gw = await McpHostingGateway.StartAsync(ServerMode.Mcp, environment: new Dictionary<string, string>
        {
            ["MCP_ALLOWED_HOSTS"] = "mcp.example.com",
            ["MCP_ALLOWED_ORIGINS"] = "https://app.example.com",
        });
        var loopback = await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp"));
        await AssertRefusedAsync(loopback, HttpStatusCode.Forbidden, "Forbidden: Host '127.0.0.1:");
        var allowed = await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/team/everything/mcp", ("Host", "mcp.example.com"), ("Origin", "https://app.example.com")));
        Assert.NotEqual(HttpStatusCode.Forbidden, allowed.StatusCode);
        Assert.Equal("https://app.example.com", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal(McpRequestGuard.ExposedHeaders, allowed.Headers.GetValues("Access-Control-Expose-Headers").Single());
        Assert.Contains("Origin", allowed.Headers.Vary);
    }

    [Fact]
    public async Task The_base_url_host_is_allowed_by_default()
    {
        await using var gw = await McpHostingGateway.StartAsync(ServerMode.All, server: o => o with { McpGatewayBaseUrl = new Uri("https://mcp.example.com") });
        var response = await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Host", "mcp.example.com")));
        Assert.NotEqual(HttpStatusCode.Forbidden, response.StatusCode);
        await AssertRefusedAsync(await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Host", "other.example.com"))),
            HttpStatusCode.Forbidden, "Forbidden: Host 'other.example.com'");
    }

    [Fact]
    public async Task A_preflight_from_an_allowed_origin_is_answered_204_and_one_from_elsewhere_403()
    {
        await using var gw = await McpHostingGateway.StartAsync(ServerMode.All, environment: new Dictionary<string, string> { ["MCP_ALLOWED_ORIGINS"] = "https://app.example.com" });
        var preflight = await gw.Mcp.SendAsync(TestGateway.With(new HttpRequestMessage(HttpMethod.Options, "/everything/mcp"),
            ("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type, mcp-session-id, Mcp-Param-Region, x-evil")));
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal("https://app.example.com", preflight.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("GET, POST, DELETE, OPTIONS", preflight.Headers.GetValues("Access-Control-Allow-Methods").Single());
        var allowHeaders = preflight.Headers.GetValues("Access-Control-Allow-Headers").Single();
        Assert.Equal("Authorization, Content-Type, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID, x-portkey-api-key, Mcp-Param-Region", allowHeaders);
        Assert.Equal("Mcp-Session-Id, WWW-Authenticate", preflight.Headers.GetValues("Access-Control-Expose-Headers").Single());
        Assert.Empty(await preflight.Content.ReadAsByteArrayAsync());

        var foreign = await gw.Mcp.SendAsync(TestGateway.With(new HttpRequestMessage(HttpMethod.Options, "/everything/mcp"),
            ("Origin", "https://evil.example.com"), ("Access-Control-Request-Method", "POST")));
        await AssertRefusedAsync(foreign, HttpStatusCode.Forbidden, "Forbidden: Origin 'https://evil.example.com'");
        Assert.False(foreign.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task A_body_over_the_limit_gets_413()
    {
        await using var gw = await McpHostingGateway.StartAsync(ServerMode.All, environment: new Dictionary<string, string> { ["MCP_MAX_BODY_BYTES"] = "2048" });
        var big = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":""" + "\"" + new string('x', 4096) + "\"}}}";
        var request = new HttpRequestMessage(HttpMethod.Post, "/everything/mcp") { Content = new StringContent(big, Encoding.UTF8, "application/json") };
        var response = await gw.Mcp.SendAsync(request);
        await AssertRefusedAsync(response, HttpStatusCode.RequestEntityTooLarge, $"Payload too large: the body is {Encoding.UTF8.GetByteCount(big)} bytes, the limit is 2048 (MCP_MAX_BODY_BYTES)");
        // Under the limit the guard lets it through.
        var small = new HttpRequestMessage(HttpMethod.Post, "/everything/mcp") { Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"ping"}""", Encoding.UTF8, "application/json") };
        Assert.NotEqual(HttpStatusCode.RequestEntityTooLarge, (await gw.Mcp.SendAsync(small)).StatusCode);
    }
}
