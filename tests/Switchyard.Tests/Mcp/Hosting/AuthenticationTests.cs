using System.Collections.Frozen;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Core.Security.Jwt;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Hosting;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Security;
using Xunit;

namespace Switchyard.Tests.Mcp.Hosting;

/// <summary>MCP authentication: gateway keys with the mcp.invoke scope and JWTs, 401/403 with RFC 9728 challenges, the caller left on the request.</summary>
public sealed class AuthenticationTests : IDisposable
{
    private const string GoodKey = "sk-mcp-good-0123456789";
    private const string ChatKey = "sk-mcp-chat-0123456789";
    private const string AdminKey = "sk-mcp-admin-0123456789";
    private readonly KeyFileDirectory _keys = new();

    public AuthenticationTests()
    {
        _keys.Write(
            Entry("agents", GoodKey, "[mcp.invoke]", "research"),
            Entry("chat-only", ChatKey, "[completions.write]", null),
            Entry("ops", AdminKey, "[admin]", null));
    }

    public void Dispose() => _keys.Dispose();

    private static string Entry(string name, string key, string scopes, string? team) =>
        $"  - name: {name}\n    hash: {ApiKeyHash.Format(key)}\n    scopes: {scopes}\n" + (team is null ? "" : $"    team: {team}\n");

    private Task<McpHostingGateway> StartWithKeysAsync(Uri? baseUrl = null) =>
        McpHostingGateway.StartAsync(ServerMode.All, server: o => o with
        {
            Auth = new AuthOptions { Keys = true, ApiKeysPath = _keys.Path },
            McpGatewayBaseUrl = baseUrl,
        });

    private static async Task<JsonElement> RefusedAsync(HttpResponseMessage response, HttpStatusCode status, string challenge)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(challenge, response.Headers.WwwAuthenticate.ToString());
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal("2.0", body.GetProperty("jsonrpc").GetString());
        Assert.Equal(-32001, body.GetProperty("error").GetProperty("code").GetInt32());
        return body;
    }

    [Fact]
    public async Task No_key_or_a_bad_key_gets_401_with_the_metadata_url()
    {
        await using var gw = await StartWithKeysAsync();
        var metadata = $"http://{gw.McpUrl.Authority}/.well-known/oauth-protected-resource/everything/mcp";
        var challenge = $"Bearer resource_metadata=\"{metadata}\", scope=\"mcp.invoke\"";

        var none = await RefusedAsync(await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp")), HttpStatusCode.Unauthorized, challenge);
        Assert.StartsWith("Unauthorized: API key is required", none.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        await RefusedAsync(await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("x-portkey-api-key", "sk-wrong"))), HttpStatusCode.Unauthorized, challenge);
        await RefusedAsync(await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Authorization", "Bearer sk-wrong"))), HttpStatusCode.Unauthorized, challenge);
        // The metadata URL follows the endpoint's path, workspace included.
        await RefusedAsync(await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/team-a/memory/mcp")), HttpStatusCode.Unauthorized,
            $"Bearer resource_metadata=\"http://{gw.McpUrl.Authority}/.well-known/oauth-protected-resource/team-a/memory/mcp\", scope=\"mcp.invoke\"");
        // And the URL it names answers.
        var prm = await (await gw.Mcp.GetAsync(metadata)).JsonAsync();
        Assert.Equal($"http://{gw.McpUrl.Authority}/everything/mcp", prm.GetProperty("resource").GetString());
    }

    [Fact]
    public async Task A_key_without_mcp_invoke_gets_403_insufficient_scope_and_a_good_key_passes()
    {
        await using var gw = await StartWithKeysAsync(new Uri("https://mcp.example.com"));
        var challenge = "Bearer error=\"insufficient_scope\", scope=\"mcp.invoke\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/everything/mcp\"";
        var chat = await RefusedAsync(await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Authorization", "Bearer " + ChatKey))), HttpStatusCode.Forbidden, challenge);
        Assert.Equal("Forbidden: API key 'chat-only' does not have the mcp.invoke scope", chat.GetProperty("error").GetProperty("message").GetString());
        // admin opens the admin API, not the MCP gateway.
        await RefusedAsync(await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("x-portkey-api-key", AdminKey))), HttpStatusCode.Forbidden, challenge);
        // No credential: 401 naming the public base URL.
        await RefusedAsync(await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp")), HttpStatusCode.Unauthorized,
            "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/everything/mcp\", scope=\"mcp.invoke\"");

        foreach (var header in new[] { ("Authorization", "Bearer " + GoodKey), ("x-portkey-api-key", GoodKey) })
        {
            var ok = await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp", header));
            Assert.NotEqual(HttpStatusCode.Unauthorized, ok.StatusCode);
            Assert.NotEqual(HttpStatusCode.Forbidden, ok.StatusCode);
            Assert.False(ok.Headers.Contains("WWW-Authenticate"));
        }
    }

    [Fact]
    public async Task The_caller_is_left_on_the_request_and_the_gateway_credential_removed()
    {
        using var store = new ApiKeyStore(_keys.Path, NullLogger(), TimeProvider.System);
        store.Start();
        var auth = new McpAuthentication(new ApiKeyGate(store, TimeProvider.System), new McpProtectedResource(null, []));
        await using var app = await EchoAppAsync(auth);
        using var http = new HttpClient { BaseAddress = GatewayApp.BoundAddress(app) };

        var seen = await (await http.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Authorization", "Bearer " + GoodKey)))).JsonAsync();
        Assert.Equal("key:agents", seen.GetProperty("id").GetString());
        Assert.Equal("agents", seen.GetProperty("name").GetString());
        Assert.Equal("research", seen.GetProperty("team").GetString());
        Assert.Equal("api_key", seen.GetProperty("auth_type").GetString());
        Assert.Equal("mcp.invoke", seen.GetProperty("scopes").GetString());
        Assert.Equal("key:agents", seen.GetProperty("user").GetString());
        Assert.False(seen.GetProperty("authorization").GetBoolean());
        Assert.False(seen.GetProperty("portkey_key").GetBoolean());

        seen = await (await http.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("x-portkey-api-key", GoodKey)))).JsonAsync();
        Assert.Equal("key:agents", seen.GetProperty("id").GetString());
        Assert.False(seen.GetProperty("portkey_key").GetBoolean());

        // AUTH_MODE=none: everyone is the anonymous caller.
        await using var open = await EchoAppAsync(new McpAuthentication());
        using var openHttp = new HttpClient { BaseAddress = GatewayApp.BoundAddress(open) };
        Assert.Equal("anonymous", (await (await openHttp.SendAsync(McpHostingGateway.Initialize("/everything/mcp"))).JsonAsync()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_jwt_with_mcp_invoke_is_a_caller_named_by_issuer_and_subject()
    {
        using var key = SigningKey.Rsa("k1");
        await using var jwks = await JwksServer.StartAsync(key);
        var options = new JwtAuthOptions
        {
            JwksUrl = jwks.Url,
            Issuers = new[] { SigningKey.Issuer }.ToFrozenSet(StringComparer.Ordinal),
            Audiences = new[] { SigningKey.Audience }.ToFrozenSet(StringComparer.Ordinal),
        };
        using var jwt = new JwtAuthenticator(options, TimeProvider.System, NullLogger());
        var auth = new McpAuthentication(new ApiKeyGate(null, jwt, TimeProvider.System), new McpProtectedResource(null, [SigningKey.Issuer]));
        await using var app = await EchoAppAsync(auth);
        using var http = new HttpClient { BaseAddress = GatewayApp.BoundAddress(app) };

        var token = key.Token(DateTimeOffset.UtcNow, c => c["scope"] = "openid mcp.invoke");
        var seen = await (await http.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Authorization", "Bearer " + token)))).JsonAsync();
        Assert.Equal("jwt:https://idp.test.example|alice@example.com", seen.GetProperty("id").GetString());
        Assert.Equal("alice@example.com", seen.GetProperty("name").GetString());
        Assert.Equal("payments", seen.GetProperty("team").GetString());
        Assert.Equal("jwt", seen.GetProperty("auth_type").GetString());
        Assert.False(seen.GetProperty("authorization").GetBoolean());

        var noScope = await http.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Authorization", "Bearer " + key.Token(DateTimeOffset.UtcNow))));
        Assert.Equal(HttpStatusCode.Forbidden, noScope.StatusCode);
        Assert.StartsWith("Bearer error=\"insufficient_scope\", scope=\"mcp.invoke\"", noScope.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal("Forbidden: JWT for 'alice@example.com' does not have the mcp.invoke scope",
            (await noScope.JsonAsync()).GetProperty("error").GetProperty("message").GetString());

        var expired = await http.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Authorization", "Bearer " + key.Token(DateTimeOffset.UtcNow.AddHours(-2), c => c["scope"] = "mcp.invoke"))));
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Equal($"Bearer resource_metadata=\"http://{http.BaseAddress!.Authority}/.well-known/oauth-protected-resource/everything/mcp\", scope=\"mcp.invoke\"",
            expired.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Jwt_mode_on_the_gateway_advertises_the_issuer_and_answers_503_while_the_keys_are_unavailable()
    {
        using var key = SigningKey.Rsa("k1");
        await using var jwks = await JwksServer.StartAsync(key);
        jwks.Failing = true;
        await using var gw = await McpHostingGateway.StartAsync(ServerMode.Mcp, server: o => o with
        {
            Auth = new AuthOptions
            {
                Jwt = new JwtAuthOptions
                {
                    JwksUrl = jwks.Url,
                    Issuers = new[] { SigningKey.Issuer }.ToFrozenSet(StringComparer.Ordinal),
                    Audiences = new[] { SigningKey.Audience }.ToFrozenSet(StringComparer.Ordinal),
                    MinRefetchInterval = TimeSpan.FromMilliseconds(100),
                },
            },
        });
        var prm = await (await gw.Mcp.GetAsync("/.well-known/oauth-protected-resource/everything/mcp")).JsonAsync();
        Assert.Equal(SigningKey.Issuer, Assert.Single(prm.GetProperty("authorization_servers").EnumerateArray()).GetString());

        var token = key.Token(DateTimeOffset.UtcNow, c => c["scope"] = "mcp.invoke");
        var unavailable = await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Authorization", "Bearer " + token)));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
        Assert.NotNull(unavailable.Headers.RetryAfter);
        Assert.False(unavailable.Headers.Contains("WWW-Authenticate"));

        jwks.Failing = false;
        HttpResponseMessage passed;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            // The key source refetches after its minimum interval; wait for it (bounded).
            await Task.Delay(200);
            passed = await gw.Mcp.SendAsync(McpHostingGateway.Initialize("/everything/mcp", ("Authorization", "Bearer " + token)));
        }
        while (passed.StatusCode == HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline);
        Assert.NotEqual(HttpStatusCode.ServiceUnavailable, passed.StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, passed.StatusCode);
        Assert.NotEqual(HttpStatusCode.Forbidden, passed.StatusCode);
    }

    private static ILogger NullLogger() => Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>A bare application running only the auth step, then an endpoint that reports the caller and the headers left.</summary>
    private static async Task<WebApplication> EchoAppAsync(McpAuthentication auth)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Use((context, next) => auth.InvokeAsync(context, next));
        app.MapPost("/{server}/mcp", async context =>
        {
            var caller = McpCaller.Of(context);
            await context.Response.WriteAsJsonAsync(new Dictionary<string, object?>
            {
                ["id"] = caller.Id,
                ["name"] = caller.Name,
                ["team"] = caller.Team,
                ["auth_type"] = caller.AuthType,
                ["scopes"] = string.Join(' ', caller.Scopes.Order(StringComparer.Ordinal)),
                ["user"] = context.User.FindFirst(McpCaller.IdClaim)?.Value,
                ["authorization"] = context.Request.Headers.ContainsKey("Authorization"),
                ["portkey_key"] = context.Request.Headers.ContainsKey("x-portkey-api-key"),
            });
        });
        await app.StartAsync();
        return app;
    }
}
