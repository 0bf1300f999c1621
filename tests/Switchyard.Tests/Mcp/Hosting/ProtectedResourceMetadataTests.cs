using System.Collections.Frozen;
using System.Net;
using System.Text.Json;
using Switchyard.Core.Security.Jwt;
using Switchyard.Gateway.Mcp.Hosting;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Security;
using Xunit;

namespace Switchyard.Tests.Mcp.Hosting;

/// <summary>RFC 9728 protected-resource metadata: path-inserted per MCP endpoint and at the root.</summary>
public sealed class ProtectedResourceMetadataTests
{
    private static void AssertDocument(JsonElement doc, string resource, params string[] authorizationServers)
    {
        Assert.Equal(resource, doc.GetProperty("resource").GetString());
        Assert.Equal(authorizationServers, doc.GetProperty("authorization_servers").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal(["mcp.invoke"], doc.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal(["header"], doc.GetProperty("bearer_methods_supported").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal("Switchyard MCP gateway", doc.GetProperty("resource_name").GetString());
    }

    [Fact]
    public async Task Path_inserted_and_root_documents_name_the_resource_from_the_request()
    {
        await using var gw = await McpHostingGateway.StartAsync(ServerMode.All);
        var origin = $"http://{gw.McpUrl.Authority}";
        var response = await gw.Mcp.GetAsync("/.well-known/oauth-protected-resource/everything/mcp");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        AssertDocument(await response.JsonAsync(), origin + "/everything/mcp");
        AssertDocument(await (await gw.Mcp.GetAsync("/.well-known/oauth-protected-resource/team-a/memory/mcp")).JsonAsync(), origin + "/team-a/memory/mcp");
        AssertDocument(await (await gw.Mcp.GetAsync("/.well-known/oauth-protected-resource/v/tools/mcp")).JsonAsync(), origin + "/v/tools/mcp");
        AssertDocument(await (await gw.Mcp.GetAsync("/.well-known/oauth-protected-resource")).JsonAsync(), origin);
        // Only MCP endpoint paths have metadata.
        var other = await gw.Mcp.GetAsync("/.well-known/oauth-protected-resource/v1/models");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(-32000, (await other.JsonAsync()).GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task The_base_url_and_the_jwt_issuers_shape_the_document()
    {
        var jwt = new JwtAuthOptions
        {
            JwksUrl = new Uri("http://127.0.0.1:9/jwks.json"),
            Issuers = new[] { "https://login.example.com/tenant", "https://idp.example.org" }.ToFrozenSet(StringComparer.Ordinal),
        };
        await using var gw = await McpHostingGateway.StartAsync(ServerMode.Mcp, server: o => o with
        {
            McpGatewayBaseUrl = new Uri("https://mcp.example.com/"),
            Auth = new AuthOptions { Jwt = jwt },
        });
        AssertDocument(await (await gw.Mcp.GetAsync("/.well-known/oauth-protected-resource/everything/mcp")).JsonAsync(),
            "https://mcp.example.com/everything/mcp", "https://idp.example.org", "https://login.example.com/tenant");
        AssertDocument(await (await gw.Mcp.GetAsync("/.well-known/oauth-protected-resource")).JsonAsync(),
            "https://mcp.example.com", "https://idp.example.org", "https://login.example.com/tenant");
    }

    [Fact]
    public void Urls_put_the_well_known_path_between_the_origin_and_the_path()
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new Microsoft.AspNetCore.Http.HostString("127.0.0.1:8788");
        var fromRequest = new McpProtectedResource(null, []);
        Assert.Equal("http://127.0.0.1:8788/everything/mcp", fromRequest.ResourceUrl(context.Request, "/everything/mcp"));
        Assert.Equal("http://127.0.0.1:8788/.well-known/oauth-protected-resource/everything/mcp", fromRequest.MetadataUrl(context.Request, "/everything/mcp"));

        var prefixed = new McpProtectedResource(new Uri("https://gw.example.com/mcp-gateway/"), []);
        Assert.Equal("https://gw.example.com/mcp-gateway/everything/mcp", prefixed.ResourceUrl(context.Request, "/everything/mcp"));
        Assert.Equal("https://gw.example.com/.well-known/oauth-protected-resource/mcp-gateway/everything/mcp", prefixed.MetadataUrl(context.Request, "/everything/mcp"));
        Assert.Equal("Bearer error=\"insufficient_scope\", scope=\"mcp.invoke\", resource_metadata=\"https://gw.example.com/.well-known/oauth-protected-resource/mcp-gateway/x/mcp\"",
            prefixed.Challenge(context.Request, "/x/mcp", insufficientScope: true));
    }
}
