using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Switchyard.Core;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Logs;
using Xunit;

namespace Switchyard.Tests.Security;

/// <summary>The real gateway with <c>AUTH_MODE=keys</c>: who gets in, with which status and body, and what reaches the upstream.</summary>
public sealed class ApiKeyGatewayTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Alice = "sy-alice-test-key";
    private const string Logs = "sy-logs-only-key";
    private const string Narrow = "sy-narrow-key";
    private const string Old = "sy-expired-key";
    private const string Off = "sy-disabled-key";

    private static string KeyFile(params string[] entries) => "keys:\n" + string.Concat(entries);

    private static string Entry(string name, string key, string extra = "    scopes: [completions.write]\n") =>
        $"  - name: {name}\n    hash: {ApiKeyHash.Format(key)}\n{extra}";

    private static readonly string Keys = KeyFile(
        Entry("alice", Alice, "    team: platform\n    scopes: [completions.write, logs.read]\n    metadata: {env: prod, owner: alice}\n"),
        Entry("logs-only", Logs, "    scopes: [logs.read]\n"),
        Entry("narrow", Narrow, "    scopes: [completions.write]\n    configs: [allowed]\n    providers: [openai]\n    models: [gpt-4o-mini]\n"),
        Entry("old", Old, "    scopes: [completions.write]\n    expires_at: \"2020-01-01T00:00:00Z\"\n"),
        Entry("off", Off, "    scopes: [completions.write]\n    disabled: true\n"));

    private static async Task<(TestGateway Gateway, string KeyDir)> StartAsync(string keys, IReadOnlyDictionary<string, string>? configs = null,
        Func<GatewaySettings, GatewaySettings>? settings = null)
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-keys-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "keys.yaml"), keys);
        var gw = await TestGateway.StartAsync(configs, settings,
            server: o => o with { Auth = new AuthOptions { Keys = true, ApiKeysPath = dir, ReloadDebounce = TimeSpan.FromMilliseconds(50) } });
        return (gw, dir);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string code, string? secret = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        using var body = JsonDocument.Parse(text);
        var root = body.RootElement;
        Assert.Equal("failure", root.GetProperty("status").GetString());
        var message = root.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Equal(code, root.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal($"Portkey Error: {message}. Error Code: {code}", root.GetProperty("message").GetString());
        if (secret is not null)
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

    private static HttpRequestMessage Chat(Uri upstream, string? gatewayKey, string model = "gpt-4o-mini", params (string, string)[] extra)
    {
        (string, string)[] headers = [.. Requests.HeaderMode(upstream), .. extra];
        if (gatewayKey is not null)
        {
            headers = [.. headers, ("x-portkey-api-key", gatewayKey)];
        }
        return TestGateway.Post("/v1/chat/completions", Requests.Chat(model: model), headers);
    }

    [Fact]
    public async Task Missing_unknown_disabled_and_expired_keys_get_401_with_portkey_codes_while_health_and_metrics_stay_open()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var (gw, _) = await StartAsync(Keys);
        await using var _gw = gw;
        await AssertRefusedAsync(await gw.SendAsync(Chat(sim.BaseUrl, null)), HttpStatusCode.Unauthorized, "03");
        await AssertRefusedAsync(await gw.SendAsync(Chat(sim.BaseUrl, "sy-not-a-key-at-all")), HttpStatusCode.Unauthorized, "03", "sy-not-a-key-at-all");
        await AssertRefusedAsync(await gw.SendAsync(Chat(sim.BaseUrl, Off)), HttpStatusCode.Unauthorized, "03", Off);
        await AssertRefusedAsync(await gw.SendAsync(Chat(sim.BaseUrl, Old)), HttpStatusCode.Unauthorized, "01", Old);
        Assert.Empty(sim.Requests);

        var health = await gw.Client.GetAsync("/v1/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var keys = (await health.JsonAsync()).GetProperty("keys");
        Assert.Equal("ok", keys.GetProperty("state").GetString());
        Assert.Equal(5, keys.GetProperty("count").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await gw.Client.GetAsync("/v1/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.Client.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Header_mode_keeps_the_provider_key_in_authorization_and_logs_the_key_name_team_and_merged_metadata()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var (gw, _) = await StartAsync(Keys, settings: s => s with { Logs = s.Logs with { LookupEnabled = true } });
        await using var _gw = gw;
        var response = await gw.SendAsync(Chat(sim.BaseUrl, Alice, extra: [("x-portkey-trace-id", "keyed-1"), ("x-portkey-metadata", """{"owner":"request"}""")]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var upstream = Assert.Single(sim.Requests);
        Assert.Equal("Bearer " + Requests.Key, upstream.Headers["Authorization"]);
        Assert.False(upstream.Headers.ContainsKey("x-portkey-api-key"));
        Assert.DoesNotContain(upstream.Headers.Values, v => v.Contains(Alice, StringComparison.Ordinal));

        var record = await RequestLogTests.RecordAsync(gw, "keyed-1");
        Assert.Equal("alice", record.GetProperty("api_key_name").GetString());
        Assert.Equal("platform", record.GetProperty("team").GetString());
        var metadata = record.GetProperty("metadata");
        Assert.Equal("prod", metadata.GetProperty("env").GetString()); // the key's default
        Assert.Equal("request", metadata.GetProperty("owner").GetString()); // the request's own value wins
        Assert.DoesNotContain(Alice, record.GetRawText(), StringComparison.Ordinal);

        // logs.read: alice has it; a completions-only key does not; the logs-only key cannot chat.
        var id = record.GetProperty("_id").GetString();
        var lookup = new HttpRequestMessage(HttpMethod.Get, $"/v1/logs/{id}");
        lookup.Headers.Add("x-portkey-api-key", Alice);
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(lookup)).StatusCode);
        var refusedLookup = new HttpRequestMessage(HttpMethod.Get, $"/v1/logs/{id}");
        refusedLookup.Headers.Add("x-portkey-api-key", Narrow);
        await AssertRefusedAsync(await gw.SendAsync(refusedLookup), HttpStatusCode.Forbidden, "033");
        await AssertRefusedAsync(await gw.Client.GetAsync($"/v1/logs/{id}"), HttpStatusCode.Unauthorized, "03");
        var logsOnly = new HttpRequestMessage(HttpMethod.Get, $"/v1/logs/{id}");
        logsOnly.Headers.Add("x-portkey-api-key", Logs);
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(logsOnly)).StatusCode);
        await AssertRefusedAsync(await gw.SendAsync(Chat(sim.BaseUrl, Logs)), HttpStatusCode.Forbidden, "033");
        Assert.Single(sim.Requests);
    }

    [Fact]
    public async Task A_gateway_key_sent_as_bearer_is_accepted_in_config_mode_and_never_forwarded_upstream()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var (gw, _) = await StartAsync(Keys, configs: new Dictionary<string, string>
        {
            ["allowed.json"] = Requests.Target(sim.BaseUrl, key: "sk-from-config"),
            // No api_key: the gateway would fall back to the client's Authorization, which here holds the gateway key.
            ["keyless.json"] = $$"""{"provider":"openai","custom_host":"{{sim.BaseUrl}}"}""",
        });
        await using var _gw = gw;
        await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "keyless"), ("Authorization", "Bearer " + Alice)));
        Assert.NotEmpty(sim.Requests);
        Assert.DoesNotContain(sim.Requests.SelectMany(r => r.Headers.Values), v => v.Contains(Alice, StringComparison.Ordinal));
        var before = sim.Requests.Count;
        var named = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "allowed"), ("Authorization", "Bearer " + Alice)));
        Assert.Equal(HttpStatusCode.OK, named.StatusCode);
        var inline = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(),
            ("x-portkey-config", Requests.Target(sim.BaseUrl, key: "sk-inline")), ("Authorization", "Bearer " + Alice)));
        Assert.Equal(HttpStatusCode.OK, inline.StatusCode);
        Assert.Equal(before + 2, sim.Requests.Count);
        Assert.Equal("Bearer sk-from-config", sim.Requests[before].Headers["Authorization"]);
        Assert.Equal("Bearer sk-inline", sim.Requests[before + 1].Headers["Authorization"]);
        Assert.DoesNotContain(sim.Requests.SelectMany(r => r.Headers.Values), v => v.Contains(Alice, StringComparison.Ordinal));

        // Header mode, a provider key as bearer and no gateway key: refused, and the provider key is not echoed.
        await AssertRefusedAsync(await gw.SendAsync(Chat(sim.BaseUrl, null)), HttpStatusCode.Unauthorized, "03", Requests.Key);
        // An unknown bearer in config mode is a wrong gateway key.
        await AssertRefusedAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "allowed"),
            ("Authorization", "Bearer sy-wrong"))), HttpStatusCode.Unauthorized, "03", "sy-wrong");
        Assert.Equal(before + 2, sim.Requests.Count);
    }

    [Fact]
    public async Task Config_provider_and_model_allow_lists_refuse_with_403()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var anthropicConfig = """{"provider":"anthropic","api_key":"k"}""";
        var (gw, _) = await StartAsync(Keys, configs: new Dictionary<string, string>
        {
            ["allowed.json"] = Requests.Target(sim.BaseUrl),
            ["other.json"] = Requests.Target(sim.BaseUrl),
            ["claude.json"] = anthropicConfig,
        });
        await using var _gw = gw;
        HttpRequestMessage WithConfig(string config, string model = "gpt-4o-mini") =>
            TestGateway.Post("/v1/chat/completions", Requests.Chat(model: model), ("x-portkey-config", config), ("x-portkey-api-key", Narrow));

        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(WithConfig("allowed"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(Chat(sim.BaseUrl, Narrow))).StatusCode); // header mode, openai, allowed model
        await AssertRefusedAsync(await gw.SendAsync(WithConfig("other")), HttpStatusCode.Forbidden, "033");
        await AssertRefusedAsync(await gw.SendAsync(WithConfig(Requests.Target(sim.BaseUrl))), HttpStatusCode.Forbidden, "033");
        await AssertRefusedAsync(await gw.SendAsync(WithConfig("allowed", model: "gpt-4o")), HttpStatusCode.Forbidden, "033");
        await AssertRefusedAsync(await gw.SendAsync(Chat(sim.BaseUrl, Narrow, model: "gpt-4o")), HttpStatusCode.Forbidden, "033");
        var anthropic = Chat(sim.BaseUrl, Narrow);
        anthropic.Headers.Remove("x-portkey-provider");
        anthropic.Headers.Add("x-portkey-provider", "anthropic");
        await AssertRefusedAsync(await gw.SendAsync(anthropic), HttpStatusCode.Forbidden, "033");
        Assert.Equal(2, sim.Requests.Count);

        // alice has no lists: any config, provider and model.
        var open = TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "gpt-4o"), ("x-portkey-config", "other"), ("x-portkey-api-key", Alice));
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(open)).StatusCode);
    }

    [Fact]
    public async Task A_key_added_changed_and_revoked_in_the_file_applies_without_restart()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var (gw, dir) = await StartAsync(KeyFile(Entry("alice", Alice)));
        await using var _gw = gw;
        var store = gw.App.Services.GetRequiredService<ApiKeyStore>();
        const string Bob = "sy-bob-new-key";

        async Task RewriteAsync(string text, Func<ApiKeySnapshot, bool> until)
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnReload(ApiKeySnapshot s)
            {
                if (until(s))
                {
                    seen.TrySetResult();
                }
            }
            store.Reloaded += OnReload;
            try
            {
                await File.WriteAllTextAsync(Path.Combine(dir, "keys.yaml"), text);
                await seen.Task.WaitAsync(TimeSpan.FromSeconds(15));
            }
            finally
            {
                store.Reloaded -= OnReload;
            }
        }

        await AssertRefusedAsync(await gw.SendAsync(Chat(sim.BaseUrl, Bob)), HttpStatusCode.Unauthorized, "03");
        // Added.
        await RewriteAsync(KeyFile(Entry("alice", Alice), Entry("bob", Bob)), s => s.ByHash.Count == 2);
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(Chat(sim.BaseUrl, Bob))).StatusCode);
        // Changed: bob loses the completions scope.
        await RewriteAsync(KeyFile(Entry("alice", Alice), Entry("bob", Bob, "    scopes: [logs.read]\n")), s => s.ByHash.Values.Any(k => k.Name == "bob" && !k.Scopes.Contains("completions.write")));
        await AssertRefusedAsync(await gw.SendAsync(Chat(sim.BaseUrl, Bob)), HttpStatusCode.Forbidden, "033");
        // A broken file keeps the last good version, and health shows the problem.
        await RewriteAsync("keys:\n  - name: bob\n    key: " + Bob + "\n", s => s.Problems.Count > 0);
        var health = await (await gw.Client.GetAsync("/v1/health")).JsonAsync();
        var keys = health.GetProperty("keys");
        Assert.Equal("degraded", keys.GetProperty("state").GetString());
        Assert.Contains("hash-key", keys.GetProperty("problems")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Bob, keys.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(Chat(sim.BaseUrl, Alice))).StatusCode);
        // Revoked.
        await RewriteAsync(KeyFile(Entry("bob", Bob)), s => s.Problems.Count == 0 && s.ByHash.Count == 1);
        await AssertRefusedAsync(await gw.SendAsync(Chat(sim.BaseUrl, Alice)), HttpStatusCode.Unauthorized, "03");
    }

    /// <summary>Sends raw bytes, so header values HttpClient would refuse to send (non-ASCII, control characters) reach the server.</summary>
    private static async Task<int> RawStatusAsync(Uri baseUrl, byte[] headerBlock)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(baseUrl.Host, baseUrl.Port);
        var stream = tcp.GetStream();
        var body = Encoding.UTF8.GetBytes(Requests.Chat());
        var head = Encoding.ASCII.GetBytes($"POST /v1/chat/completions HTTP/1.1\r\nHost: {baseUrl.Authority}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n");
        try
        {
            await stream.WriteAsync(head);
            await stream.WriteAsync(headerBlock);
            await stream.WriteAsync("\r\n"u8.ToArray());
            await stream.WriteAsync(body);
        }
        catch (IOException)
        {
            // Kestrel may answer a malformed header block (400) and close before the rest is written; the answer is still there to read.
        }
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var statusLine = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.NotNull(statusLine);
        return int.Parse(statusLine!.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Fuzzed_auth_headers_always_get_a_4xx_never_a_5xx()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var (gw, _) = await StartAsync(Keys, configs: new Dictionary<string, string> { ["allowed.json"] = Requests.Target(sim.BaseUrl) });
        await using var _gw = gw;
        var provider = $"x-portkey-provider: openai\r\nx-portkey-custom-host: {sim.BaseUrl}\r\n";
        string Repeat(string line, int n) => string.Concat(Enumerable.Repeat(line, n));
        var cases = new List<(string Name, byte[] Headers)>
        {
            ("empty api key", Encoding.ASCII.GetBytes(provider + "x-portkey-api-key: \r\n")),
            ("empty bearer in config mode", Encoding.ASCII.GetBytes("x-portkey-config: allowed\r\nAuthorization: Bearer \r\n")),
            ("bare Bearer", Encoding.ASCII.GetBytes("x-portkey-config: allowed\r\nAuthorization: Bearer\r\n")),
            ("basic auth", Encoding.ASCII.GetBytes("x-portkey-config: allowed\r\nAuthorization: Basic YTpi\r\n")),
            ("64 KB api key", Encoding.ASCII.GetBytes(provider + "x-portkey-api-key: " + new string('k', 64 * 1024) + "\r\n")),
            ("16 KB api key", Encoding.ASCII.GetBytes(provider + "x-portkey-api-key: " + new string('k', 16 * 1024) + "\r\n")),
            ("64 KB bearer", Encoding.ASCII.GetBytes("x-portkey-config: allowed\r\nAuthorization: Bearer " + new string('b', 64 * 1024) + "\r\n")),
            ("non-ASCII UTF-8 api key", Encoding.UTF8.GetBytes(provider + "x-portkey-api-key: sy-ключ-🔑\r\n")),
            ("non-ASCII Latin-1 api key", Encoding.Latin1.GetBytes(provider + "x-portkey-api-key: sy-clé\r\n")),
            ("non-ASCII bearer", Encoding.UTF8.GetBytes("x-portkey-config: allowed\r\nAuthorization: Bearer ключ\r\n")),
            ("control characters", [.. Encoding.ASCII.GetBytes(provider + "x-portkey-api-key: sy-"), 0x01, 0x07, 0x1b, .. "x\r\n"u8.ToArray()]),
            ("NUL", [.. Encoding.ASCII.GetBytes(provider + "x-portkey-api-key: sy-"), 0x00, .. "x\r\n"u8.ToArray()]),
            ("tab inside", Encoding.ASCII.GetBytes(provider + "x-portkey-api-key: sy-\tx\r\n")),
            ("100 api key headers", Encoding.ASCII.GetBytes(provider + Repeat($"x-portkey-api-key: {Alice}\r\n", 100))),
            ("100 bearer headers", Encoding.ASCII.GetBytes("x-portkey-config: allowed\r\n" + Repeat($"Authorization: Bearer {Alice}\r\n", 100))),
            ("api key list in one header", Encoding.ASCII.GetBytes(provider + $"x-portkey-api-key: {Alice}, {Alice}\r\n")),
            ("valid key but metadata not JSON", Encoding.ASCII.GetBytes(provider + $"x-portkey-api-key: {Alice}\r\nx-portkey-metadata: {{not json\r\n")),
        };
        foreach (var (name, headers) in cases)
        {
            var status = await RawStatusAsync(gw.BaseUrl, headers);
            Assert.True(status is >= 400 and < 500, $"{name}: got {status}");
        }
        // Still healthy and still serving a good key.
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(Chat(sim.BaseUrl, Alice))).StatusCode);
    }

    [Fact]
    public async Task The_portkey_npm_sdk_api_key_option_and_the_openai_sdk_bearer_reach_the_upstream_with_a_gateway_key()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = "sk-node" });
        var (gw, _) = await StartAsync(Keys, configs: new Dictionary<string, string> { ["node-named.json"] = Requests.Target(sim.BaseUrl, "sk-node") });
        await using var _gw = gw;
        var (stdout, exitCode) = await NodeClients.RunAsync("gateway-key-check.mjs", new Dictionary<string, string>
        {
            ["GATEWAY_URL"] = gw.V1.ToString(),
            ["UPSTREAM_URL"] = sim.BaseUrl.ToString(),
            ["PROVIDER_API_KEY"] = "sk-node",
            ["GATEWAY_KEY"] = Alice,
            ["CONFIG_NAME"] = "node-named",
        }, TimeSpan.FromSeconds(120), output, "portkey-ai");
        var cases = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, cases.Count);
        Assert.True(exitCode == 0, stdout);
        Assert.Equal(2, sim.Requests.Count);
        Assert.All(sim.Requests, r => Assert.Equal("Bearer sk-node", r.Headers["Authorization"]));
    }
}
