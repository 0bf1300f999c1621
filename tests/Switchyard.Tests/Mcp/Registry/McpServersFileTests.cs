using Switchyard.Core.Security;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Registry;
using Xunit;

namespace Switchyard.Tests.Mcp.Registry;

/// <summary>The MCP servers file: every field, every refusal with its JSON path, and secrets never echoed.</summary>
public sealed class McpServersFileTests
{
    private const string Secret = "s3cr3t-value-never-printed";

    private static readonly Dictionary<string, string> Env = new()
    {
        ["GITHUB_TOKEN"] = Secret,
        ["OAUTH_SECRET"] = "oauth-" + Secret,
        ["TEAM"] = "payments",
        ["EMPTY"] = "",
        ["MISSING_FILE"] = "/nonexistent/switchyard/mcp-secret",
    };

    private static (McpServersFileContent? Content, List<(string Path, string Message)> Errors, List<string> Warnings) Parse(string text,
        string fileName = "servers.yaml", IReadOnlyDictionary<string, string>? env = null, string? trusted = null)
    {
        var errors = new List<(string, string)>();
        var warnings = new List<string>();
        var e = env ?? Env;
        var context = new McpServersFile.Context(name => e.TryGetValue(name, out var v) ? v : null, CustomHostValidator.FromEnvironment(trusted));
        return (McpServersFile.Parse(text, fileName, context, errors, warnings), errors, warnings);
    }

    private static void AssertNoSecret(IEnumerable<(string Path, string Message)> errors, IEnumerable<string> warnings)
    {
        foreach (var (path, message) in errors)
        {
            Assert.DoesNotContain(Secret, path + message, StringComparison.Ordinal);
            Assert.DoesNotContain("literal-secret", path + message, StringComparison.Ordinal);
        }
        foreach (var w in warnings)
        {
            Assert.DoesNotContain(Secret, w, StringComparison.Ordinal);
        }
    }

    private static void AssertError(List<(string Path, string Message)> errors, string path, string fragment)
    {
        Assert.True(errors.Any(e => e.Path == path && e.Message.Contains(fragment, StringComparison.Ordinal)),
            $"expected an error at {path} containing '{fragment}'; got:\n" + string.Join('\n', errors.Select(e => $"{e.Path}: {e.Message}")));
    }

    [Fact]
    public void Every_field_of_an_http_server_loads()
    {
        var (content, errors, warnings) = Parse("""
            servers:
              acme/github:
                url: https://mcp.example.com/github/mcp
                type: http
                description: GitHub tools for ${TEAM}
                auth_type: headers
                headers:
                  Authorization: ${GITHUB_TOKEN}
                  x-team: ${TEAM}
                forward_headers: [x-request-id, traceparent]
                tools: {allowed: [list_issues, create_issue], blocked: [delete_repo]}
                timeouts: {connect_ms: 2500, request_ms: 90000}
                pinning: block
                rate_limits:
                  - {tool: "*", per: caller, requests: 100, window: 1m}
                  - {tool: create_issue, per: server, requests: 5, window: 30s}
            """);
        Assert.Empty(errors);
        Assert.Empty(warnings);
        var s = Assert.Single(content!.Servers);
        Assert.Equal(("acme/github", "github", "acme"), (s.Id, s.Name, s.Workspace));
        Assert.Equal(McpUpstreamTransport.StreamableHttp, s.Transport);
        Assert.Equal("https://mcp.example.com/github/mcp", s.Url!.AbsoluteUri);
        Assert.Equal(Secret, s.Headers["authorization"]);
        Assert.Equal("payments", s.Headers["X-Team"]);
        Assert.Equal(["traceparent", "x-request-id"], s.ForwardHeaders.Order(StringComparer.Ordinal));
        Assert.True(s.Tools.Permits("list_issues"));
        Assert.False(s.Tools.Permits("delete_repo"));
        Assert.False(s.Tools.Permits("other"));
        Assert.Equal(TimeSpan.FromMilliseconds(2500), s.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(90), s.RequestTimeout);
        Assert.Equal(McpPinMode.Block, s.Pinning);
        Assert.Equal(2, s.RateLimits.Count);
        Assert.Equal(new McpRateLimit { Tool = "*", Per = McpRateScope.Caller, Requests = 100, Window = TimeSpan.FromMinutes(1) }, s.RateLimits[0]);
        Assert.Equal(new McpRateLimit { Tool = "create_issue", Per = McpRateScope.Server, Requests = 5, Window = TimeSpan.FromSeconds(30) }, s.RateLimits[1]);
        Assert.Equal("servers.yaml", s.File);
        Assert.Null(s.ClientCredentials);
    }

    [Fact]
    public void A_stdio_server_gets_its_command_args_env_and_cwd()
    {
        var (content, errors, _) = Parse("""
            {"servers": {"fs": {"command": "node", "args": ["index.js", "/data/${TEAM}"], "env": {"GITHUB_TOKEN": "${GITHUB_TOKEN}", "DEBUG": true, "PORT": 3},
              "cwd": "/srv"}}}
            """, "servers.json");
        Assert.Empty(errors);
        var s = Assert.Single(content!.Servers);
        Assert.Equal(McpUpstreamTransport.Stdio, s.Transport);
        Assert.Equal("node", s.Command);
        Assert.Equal(["index.js", "/data/payments"], s.Arguments);
        Assert.Equal(Secret, s.Environment["GITHUB_TOKEN"]);
        Assert.Equal("true", s.Environment["DEBUG"]);
        Assert.Equal("3", s.Environment["PORT"]);
        Assert.Equal("/srv", s.WorkingDirectory);
        Assert.Null(s.Url);
        Assert.Null(s.Workspace);
    }

    [Theory]
    [InlineData("http", McpUpstreamTransport.StreamableHttp)]
    [InlineData("sse", McpUpstreamTransport.Sse)]
    [InlineData("http-sse", McpUpstreamTransport.Auto)]
    [InlineData("sse-http", McpUpstreamTransport.Auto)]
    [InlineData(null, McpUpstreamTransport.Auto)]
    public void The_type_selects_the_transport(string? type, McpUpstreamTransport expected)
    {
        var typeLine = type is null ? "" : $", \"type\": \"{type}\"";
        var (content, errors, _) = Parse("{\"servers\": {\"e\": {\"url\": \"http://127.0.0.1:3001/mcp\"" + typeLine + "}}}", "s.json");
        Assert.Empty(errors);
        Assert.Equal(expected, content!.Servers[0].Transport);
    }

    [Fact]
    public void Portkeys_bare_map_and_forwardHeaders_spelling_are_accepted()
    {
        var (content, errors, _) = Parse("""
            {
              "ws1/linear": {"url": "https://mcp.linear.app/sse", "type": "sse", "headers": {"Authorization": "${GITHUB_TOKEN}"}, "forwardHeaders": ["x-trace"]},
              "ws1/deepwiki": {"url": "https://mcp.deepwiki.com/mcp", "type": "http-sse", "tools": {"blocked": ["x"]}}
            }
            """, "servers.json");
        Assert.Empty(errors);
        Assert.Equal(["ws1/deepwiki", "ws1/linear"], content!.Servers.Select(s => s.Id).Order(StringComparer.Ordinal));
        Assert.Equal(["x-trace"], content.Servers.Single(s => s.Name == "linear").ForwardHeaders);
    }

    [Fact]
    public void Oauth_client_credentials_load_with_the_secret_from_a_mounted_file()
    {
        var file = Path.Combine(Path.GetTempPath(), $"mcp-oauth-{Guid.NewGuid():N}");
        File.WriteAllText(file, "from-file-" + Secret + "\n");
        try
        {
            var env = new Dictionary<string, string>(Env) { ["OAUTH_SECRET_FILE"] = file };
            var (content, errors, _) = Parse("""
                servers:
                  api:
                    url: http://mcp-api.tools.svc:8080/mcp
                    auth_type: oauth_client_credentials
                    oauth_client_credentials:
                      token_url: http://auth.tools.svc:9000/oauth/token
                      client_id: gateway
                      client_secret: ${OAUTH_SECRET_FILE}
                      scope: [mcp.read, mcp.write]
                """, env: env);
            Assert.Empty(errors);
            var s = Assert.Single(content!.Servers);
            var c = s.ClientCredentials!;
            Assert.Equal("http://auth.tools.svc:9000/oauth/token", c.TokenUrl.AbsoluteUri);
            Assert.Equal(("gateway", "from-file-" + Secret, "mcp.read mcp.write"), (c.ClientId, c.ClientSecret, c.Scope));
            Assert.Equal("http://mcp-api.tools.svc:8080/mcp", c.Resource);
            Assert.Equal([file], content.SecretFiles);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Virtual_servers_load_with_their_separator()
    {
        var (content, errors, _) = Parse("""
            servers:
              a: {url: "http://127.0.0.1:1/mcp"}
            virtual_servers:
              dev: {servers: [a, acme/b], separator: "_", description: dev tools}
              all: {servers: [a]}
            """);
        Assert.Empty(errors);
        var dev = content!.VirtualServers.Single(v => v.Name == "dev");
        Assert.Equal(["a", "acme/b"], dev.Servers);
        Assert.Equal("_", dev.Separator);
        Assert.Equal("__", content.VirtualServers.Single(v => v.Name == "all").Separator);
    }

    [Theory]
    [InlineData("v/x", "reserved for virtual servers")]
    [InlineData("health", "reserved for the gateway's own routes")]
    [InlineData(".well-known", "reserved for the gateway's own routes")]
    [InlineData("v1/x", "reserved for the gateway's own routes")]
    [InlineData("metrics", "reserved for the gateway's own routes")]
    [InlineData("a/b/c", "more than one '/'")]
    [InlineData("..", "not only dots")]
    [InlineData("bad name", "each part must be")]
    public void Bad_and_reserved_ids_are_refused(string id, string fragment)
    {
        var (content, errors, _) = Parse("{\"servers\": {\"" + id + "\": {\"url\": \"http://127.0.0.1:1/mcp\"}}}", "s.json");
        Assert.Null(content);
        AssertError(errors, $"$.servers.{id}", fragment);
    }

    [Fact]
    public void Credentials_written_literally_are_refused_without_echoing_them()
    {
        var (content, errors, warnings) = Parse("""
            servers:
              a:
                url: http://127.0.0.1:1/mcp
                headers: {Authorization: "Bearer literal-secret", x-api-key: literal-secret-2}
              b:
                command: node
                env: {API_KEY: literal-secret-3, GITHUB_PERSONAL_ACCESS_TOKEN: "${GITHUB_TOKEN}x"}
              c:
                url: http://127.0.0.1:1/mcp
                oauth_client_credentials: {token_url: "http://127.0.0.1:2/token", client_id: x, client_secret: literal-secret-4}
              d:
                url: http://127.0.0.1:1/mcp
                github_token: literal-secret-5
            """);
        Assert.Null(content);
        AssertError(errors, "$.servers.a.headers.Authorization", "${NAME}");
        AssertError(errors, "$.servers.a.headers.x-api-key", "${NAME}");
        AssertError(errors, "$.servers.b.env.API_KEY", "${NAME}");
        AssertError(errors, "$.servers.b.env.GITHUB_PERSONAL_ACCESS_TOKEN", "${NAME}");
        AssertError(errors, "$.servers.c.oauth_client_credentials.client_secret", "${NAME}");
        AssertError(errors, "$.servers.d.github_token", "unknown field");
        AssertNoSecret(errors, warnings);
    }

    [Fact]
    public void Missing_and_empty_variables_and_missing_secret_files_are_named()
    {
        var (content, errors, _) = Parse("""
            servers:
              a: {url: "http://127.0.0.1:1/mcp", headers: {Authorization: "${NOPE}", x-token: "${EMPTY}", x-key: "${MISSING_FILE}"}}
            """);
        Assert.Null(content);
        AssertError(errors, "$.servers.a.headers.Authorization", "environment variable NOPE is not set");
        AssertError(errors, "$.servers.a.headers.x-token", "environment variable EMPTY is empty");
        AssertError(errors, "$.servers.a.headers.x-key", "which does not exist");
    }

    [Fact]
    public void Portkey_fields_we_do_not_implement_are_errors()
    {
        var (content, errors, _) = Parse("""
            servers:
              a:
                url: http://127.0.0.1:1/mcp
                user_identity_forwarding: {method: bearer}
                passthroughHeaders: [x]
                disablePooling: true
                jwt_validation: {}
              b: {url: "http://127.0.0.1:1/mcp", auth_type: oauth_auto}
              c: {url: "http://127.0.0.1:1/mcp", forwardHeaders: {mode: all-except, headers: [x]}}
              d: {url: "http://127.0.0.1:1/mcp", tools: {rateLimit: {}}}
            """);
        Assert.Null(content);
        foreach (var field in new[] { "user_identity_forwarding", "passthroughHeaders", "disablePooling", "jwt_validation" })
        {
            AssertError(errors, $"$.servers.a.{field}", "not supported");
        }
        AssertError(errors, "$.servers.b.auth_type", "'oauth_auto'");
        AssertError(errors, "$.servers.c.forwardHeaders.mode", "not supported");
        AssertError(errors, "$.servers.d.tools.rateLimit", "rate_limits");
    }

    [Theory]
    [InlineData("authorization")]
    [InlineData("Cookie")]
    [InlineData("x-portkey-api-key")]
    [InlineData("x-api-key")]
    [InlineData("x-auth-token")]
    [InlineData("x-user-claims")]
    [InlineData("x-user-jwt")]
    [InlineData("proxy-authorization")]
    [InlineData("mcp-session-id")]
    [InlineData("host")]
    public void Forwarding_a_protected_header_is_an_error(string header)
    {
        var (content, errors, _) = Parse("{\"servers\": {\"a\": {\"url\": \"http://127.0.0.1:1/mcp\", \"forward_headers\": [\"x-ok\", \"" + header + "\"]}}}", "s.json");
        Assert.Null(content);
        Assert.Single(errors);
        Assert.Equal("$.servers.a.forward_headers", errors[0].Path);
    }

    [Fact]
    public void Shape_errors_carry_their_paths()
    {
        var (content, errors, _) = Parse("""
            servers:
              a: {type: ftp, url: "http://127.0.0.1:1/mcp"}
              b: {}
              c: {command: node, url: "http://127.0.0.1:1/mcp"}
              d: {type: stdio}
              e: {url: "http://127.0.0.1:1/mcp", pinning: sometimes, timeouts: {connect_ms: 5, request_ms: "x"}}
              f: {url: "http://127.0.0.1:1/mcp", rate_limits: [{requests: 0, window: 1w, per: team}, {tool: x}]}
              g: {url: "http://127.0.0.1:1/mcp", headers: {Content-Type: x, "bad name": y}}
              h: {command: node, headers: {x: y}, forward_headers: [x]}
              i: {url: "http://127.0.0.1:1/mcp", auth_type: oauth_client_credentials}
              j: {url: "http://127.0.0.1:1/mcp", env: {"1BAD": x}}
              k: {url: "http://127.0.0.1:1/mcp", tools: [x]}
              l: "not an object"
            virtual_servers:
              m: {servers: []}
              n: {separator: "::"}
              "bad name": {servers: [a, a]}
            """);
        Assert.Null(content);
        AssertError(errors, "$.servers.a.type", "not one of http, sse, http-sse, stdio");
        AssertError(errors, "$.servers.b", "needs a 'url'");
        AssertError(errors, "$.servers.c.command", "for stdio servers");
        AssertError(errors, "$.servers.d", "needs a 'command'");
        AssertError(errors, "$.servers.e.pinning", "not one of off, alert, block");
        AssertError(errors, "$.servers.e.timeouts.connect_ms", "from 100 to");
        AssertError(errors, "$.servers.e.timeouts.request_ms", "whole number");
        AssertError(errors, "$.servers.f.rate_limits[0].requests", "whole number");
        AssertError(errors, "$.servers.f.rate_limits[0].window", "s, m, h or d");
        AssertError(errors, "$.servers.f.rate_limits[0].per", "caller, server");
        AssertError(errors, "$.servers.f.rate_limits[1].requests", "needs 'requests'");
        AssertError(errors, "$.servers.f.rate_limits[1].window", "needs a 'window'");
        AssertError(errors, "$.servers.g.headers.Content-Type", "written by the MCP transport");
        AssertError(errors, "$.servers.g.headers.bad name", "not a header name");
        AssertError(errors, "$.servers.h.headers", "for HTTP servers");
        AssertError(errors, "$.servers.h.forward_headers", "HTTP servers only");
        AssertError(errors, "$.servers.i.oauth_client_credentials", "needs an 'oauth_client_credentials' block");
        AssertError(errors, "$.servers.j.env", "for stdio servers");
        AssertError(errors, "$.servers.k.tools", "'allowed' and/or 'blocked'");
        AssertError(errors, "$.servers.l", "must be an object");
        AssertError(errors, "$.virtual_servers.m.servers", "is empty");
        AssertError(errors, "$.virtual_servers.n.servers", "needs a 'servers' list");
        AssertError(errors, "$.virtual_servers.n.separator", "1 to 16");
        AssertError(errors, "$.virtual_servers.bad name", "the name must be");
        AssertError(errors, "$.virtual_servers.bad name.servers", "more than once");
    }

    [Fact]
    public void Unknown_fields_are_warnings()
    {
        var (content, errors, warnings) = Parse("""
            servers:
              a: {url: "http://127.0.0.1:1/mcp", colour: blue, tools: {logCalls: true}}
            virtual_servers:
              v: {servers: [a], owner: me}
            extra: 1
            """);
        Assert.Empty(errors);
        Assert.NotNull(content);
        Assert.Contains(warnings, w => w.Contains("unknown top-level field 'extra'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("unknown field 'colour'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("logCalls", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("unknown field 'owner'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://mcp-github.tools.svc:8080/mcp")]
    [InlineData("http://mcp-github:8080/mcp")]
    [InlineData("http://10.1.2.3:8080/mcp")]
    [InlineData("http://127.0.0.1:3001/mcp")]
    [InlineData("http://[::1]:3001/mcp/")]
    [InlineData("https://mcp.example.com/sse?team=a")]
    public void In_cluster_and_loopback_urls_are_operator_config_and_allowed(string url)
    {
        var (content, errors, _) = Parse("{\"servers\": {\"a\": {\"url\": \"" + url + "\"}}}", "s.json");
        Assert.Empty(errors);
        Assert.Equal(new Uri(url), content!.Servers[0].Url);
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest", "metadata")]
    [InlineData("http://metadata.google.internal/x", "metadata")]
    [InlineData("ftp://example.com/mcp", "http or https")]
    [InlineData("http://user:pw@example.com/mcp", "credentials")]
    [InlineData("http://0x7f000001/mcp", "non-standard IPv4")]
    [InlineData("http://example.com/mcp#frag", "fragment")]
    [InlineData("mcp.example.com/mcp", "absolute")]
    public void Dangerous_urls_are_refused(string url, string fragment)
    {
        var (content, errors, _) = Parse("{\"servers\": {\"a\": {\"url\": \"" + url + "\"}, \"b\": {\"url\": \"http://127.0.0.1:1/mcp\", \"oauth_client_credentials\": {\"token_url\": \"" + url + "\", \"client_id\": \"x\", \"client_secret\": \"${OAUTH_SECRET}\"}}}}", "s.json");
        Assert.Null(content);
        AssertError(errors, "$.servers.a.url", fragment);
        AssertError(errors, "$.servers.b.oauth_client_credentials.token_url", fragment);
    }

    [Fact]
    public void A_metadata_host_listed_in_trusted_custom_hosts_is_allowed()
    {
        var (content, errors, _) = Parse("""{"servers": {"a": {"url": "http://169.254.169.254/mcp"}}}""", "s.json", trusted: "169.254.169.254");
        Assert.Empty(errors);
        Assert.NotNull(content);
    }

    [Fact]
    public void Credential_looking_env_names_are_recognised()
    {
        Assert.True(McpServersFile.LooksLikeCredentialVariable("GITHUB_PERSONAL_ACCESS_TOKEN"));
        Assert.True(McpServersFile.LooksLikeCredentialVariable("OPENAI_API_KEY"));
        Assert.True(McpServersFile.LooksLikeCredentialVariable("DB_PASSWORD"));
        Assert.True(McpServersFile.LooksLikeCredentialVariable("SLACK_BOT_TOKEN"));
        Assert.False(McpServersFile.LooksLikeCredentialVariable("MEMORY_FILE_PATH"));
        Assert.False(McpServersFile.LooksLikeCredentialVariable("DEBUG"));
    }

    [Fact]
    public void Broken_syntax_is_reported_at_the_root()
    {
        var (content, errors, _) = Parse("{\"servers\": ", "s.json");
        Assert.Null(content);
        Assert.Equal("", Assert.Single(errors).Path);
        var (yaml, yamlErrors, _) = Parse("- a\n- b\n");
        Assert.Null(yaml);
        Assert.Contains("expected an object", Assert.Single(yamlErrors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_example_file_in_the_repository_loads_without_errors_or_warnings()
    {
        var env = new Dictionary<string, string> { ["GITHUB_MCP_TOKEN"] = "gh-" + Secret, ["BILLING_MCP_CLIENT_SECRET"] = "billing-" + Secret };
        var text = File.ReadAllText(Path.Combine(Infrastructure.RepoPaths.Root, "mcp-servers", "example.yaml.disabled"));
        var (content, errors, warnings) = Parse(text, "example.yaml", env);
        Assert.Empty(errors);
        Assert.Empty(warnings);
        Assert.Equal(4, content!.Servers.Count);
        Assert.Equal(["tools/github", "memory"], Assert.Single(content.VirtualServers).Servers);
        Assert.Equal(McpUpstreamTransport.Stdio, content.Servers.Single(s => s.Id == "memory").Transport);
        Assert.Equal("mcp.read mcp.call", content.Servers.Single(s => s.Id == "tools/billing").ClientCredentials!.Scope);
    }
}
