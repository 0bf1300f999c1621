using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Registry;
using Xunit;

namespace Switchyard.Tests.Mcp.Upstream;

/// <summary>
/// The connector against an in-process SDK MCP server on 127.0.0.1: what headers reach the upstream, OAuth client credentials
/// (token endpoint, bearer checked by the upstream, renewal before expiry, clear failures), and the same-origin rule.
/// </summary>
public sealed class McpConnectorHttpTests : IAsyncLifetime
{
    private const string ClientSecret = "client-secret-never-printed";

    private readonly ConcurrentQueue<IHeaderDictionary> _mcpRequests = new();
    private readonly ConcurrentQueue<IFormCollection> _tokenRequests = new();
    private WebApplication _app = null!;
    private int _issued;

    /// <summary>The bearer the upstream accepts now (the last one the token endpoint issued); null accepts none.</summary>
    private volatile string? _validToken;

    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddMcpServer().WithHttpTransport()
            .WithTools([McpServerTool.Create((string message) => "echo:" + message, new McpServerToolCreateOptions { Name = "echo" })]);
        _app = builder.Build();
        _app.MapPost("/token", async context =>
        {
            var form = await context.Request.ReadFormAsync();
            _tokenRequests.Enqueue(form);
            if (form["grant_type"] != "client_credentials" || form["client_id"] != "gateway" || form["client_secret"] != ClientSecret)
            {
                context.Response.StatusCode = 401;
                await context.Response.WriteAsJsonAsync(new { error = "invalid_client", error_description = "bad secret " + form["client_secret"] });
                return;
            }
            var token = "token-" + Interlocked.Increment(ref _issued);
            _validToken = token;
            await context.Response.WriteAsJsonAsync(new { access_token = token, token_type = "Bearer", expires_in = 120 });
        });
        _app.UseWhen(c => c.Request.Path.StartsWithSegments("/mcp") || c.Request.Path.StartsWithSegments("/secured"), branch => branch.Use(async (context, next) =>
        {
            var copy = new HeaderDictionary();
            foreach (var (name, value) in context.Request.Headers)
            {
                copy[name] = value;
            }
            _mcpRequests.Enqueue(copy);
            if (context.Request.Path.StartsWithSegments("/secured"))
            {
                if (context.Request.Headers.Authorization != "Bearer " + _validToken || _validToken is null)
                {
                    context.Response.StatusCode = 401;
                    return;
                }
                context.Request.Path = "/mcp" + context.Request.Path.Value!["/secured".Length..];
            }
            await next(context);
        }));
        // Routing after the rewrite above, so /secured/… reaches the MCP endpoint.
        _app.UseRouting();
        _app.MapMcp("/mcp");
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _base = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private McpUpstreamServer Server(string path, McpClientCredentials? credentials = null) => new()
    {
        Id = "acme/api",
        Name = "api",
        Workspace = "acme",
        Url = new Uri(_base, path),
        Transport = McpUpstreamTransport.StreamableHttp,
        ClientCredentials = credentials,
        ConnectTimeout = TimeSpan.FromSeconds(20),
    };

    private McpClientCredentials Credentials(string secret = ClientSecret) => new()
    {
        TokenUrl = new Uri(_base, "/token"),
        ClientId = "gateway",
        ClientSecret = secret,
        Scope = "mcp.read mcp.write",
        Resource = new Uri(_base, "/secured").AbsoluteUri,
    };

    private static async Task<string> EchoAsync(McpClient client, string message)
    {
        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = message });
        return string.Concat(result.Content.OfType<TextContentBlock>().Select(t => t.Text));
    }

    [Fact]
    public async Task Only_configured_headers_and_the_allowed_forwarded_ones_reach_the_upstream()
    {
        using var connector = new McpConnector(NullLoggerFactory.Instance, TimeProvider.System);
        var server = Server("/mcp") with
        {
            Headers = new Dictionary<string, string> { ["X-Static"] = "configured", ["X-Team"] = "from-config" },
            ForwardHeaders = new[] { "x-request-id", "x-team", "authorization" }.ToFrozenSet(StringComparer.OrdinalIgnoreCase),
        };
        var context = new McpUpstreamContext
        {
            Caller = McpCaller.Anonymous,
            ForwardedHeaders = new Dictionary<string, string>
            {
                ["x-request-id"] = "req-1",
                ["x-team"] = "from-client",
                ["authorization"] = "Bearer client-own-token",
                ["cookie"] = "session=client",
                ["x-portkey-api-key"] = "pk-client",
                ["x-other"] = "not-allowed",
            },
        };
        await using (var client = await connector.ConnectAsync(server, new McpClientOptions(), context, CancellationToken.None))
        {
            Assert.Equal("echo:hi", await EchoAsync(client, "hi"));
        }
        Assert.NotEmpty(_mcpRequests);
        foreach (var headers in _mcpRequests)
        {
            Assert.Equal("configured", headers["X-Static"]);
            Assert.Equal("from-config", headers["X-Team"]);
            Assert.Equal("req-1", headers["x-request-id"]);
            Assert.False(headers.ContainsKey("Authorization"));
            Assert.False(headers.ContainsKey("Cookie"));
            Assert.False(headers.ContainsKey("x-portkey-api-key"));
            Assert.False(headers.ContainsKey("x-other"));
        }
        Assert.NotNull(connector.RememberedProtocolVersion("acme/api"));
    }

    [Fact]
    public async Task Oauth_client_credentials_put_a_bearer_on_every_request_and_renew_it_before_expiry()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var connector = new McpConnector(NullLoggerFactory.Instance, time);
        var server = Server("/secured", Credentials());
        await using (var client = await connector.ConnectAsync(server, new McpClientOptions(), new McpUpstreamContext { Caller = McpCaller.Anonymous }, CancellationToken.None))
        {
            Assert.Equal("echo:one", await EchoAsync(client, "one"));
            Assert.Equal(1, connector.Tokens.Fetches);
            var form = Assert.Single(_tokenRequests);
            Assert.Equal(("client_credentials", "gateway", "mcp.read mcp.write", new Uri(_base, "/secured").AbsoluteUri),
                (form["grant_type"].ToString(), form["client_id"].ToString(), form["scope"].ToString(), form["resource"].ToString()));

            // Still valid 59 s later: no new token.
            time.Advance(TimeSpan.FromSeconds(59));
            Assert.Equal("echo:two", await EchoAsync(client, "two"));
            Assert.Equal(1, connector.Tokens.Fetches);

            // Within 60 s of its 120 s lifetime: renewed before the upstream would refuse it, on the same connection.
            time.Advance(TimeSpan.FromSeconds(2));
            Assert.Equal("echo:three", await EchoAsync(client, "three"));
            Assert.Equal(2, connector.Tokens.Fetches);
        }
        Assert.All(_mcpRequests, h => Assert.StartsWith("Bearer token-", h.Authorization.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refused_token_request_names_the_server_and_never_the_secret()
    {
        using var connector = new McpConnector(NullLoggerFactory.Instance, TimeProvider.System);
        var server = Server("/secured", Credentials("wrong-" + ClientSecret));
        var ex = await Assert.ThrowsAsync<McpUpstreamUnavailableException>(() =>
            connector.ConnectAsync(server, new McpClientOptions(), new McpUpstreamContext { Caller = McpCaller.Anonymous }, CancellationToken.None));
        Assert.Contains("Upstream MCP server 'acme/api'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 401 (invalid_client)", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(ClientSecret, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(ClientSecret, connector.Snapshot()["acme/api"].LastError, StringComparison.Ordinal);
        Assert.Empty(_mcpRequests);
    }

    [Fact]
    public async Task Requests_to_another_origin_are_refused()
    {
        var server = Server("/mcp");
        using var handler = new McpUpstreamRequestHandler(server, null, new SocketsHttpHandler());
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        var elsewhere = new UriBuilder(_base) { Port = _base.Port == 65535 ? 1 : _base.Port + 1 }.Uri;
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => invoker.SendAsync(new HttpRequestMessage(HttpMethod.Post, new Uri(elsewhere, "/message")), CancellationToken.None));
        Assert.Contains("another origin", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_mcpRequests);
        // The configured origin itself is reached (whatever the upstream answers a bare GET).
        using var same = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(_base, "/mcp")), CancellationToken.None);
        Assert.Single(_mcpRequests);
    }
}
