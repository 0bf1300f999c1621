using System.Collections.Frozen;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Core.Security.Jwt;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Logs;
using Xunit;

namespace Switchyard.Tests.Security;

/// <summary>The real gateway with <c>AUTH_MODE=jwt</c> (and <c>keys,jwt</c>) against a JWKS served on loopback by the test.</summary>
public sealed class JwtAuthTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static JwtAuthOptions Options(JwksServer jwks) => new()
    {
        JwksUrl = jwks.Url,
        Issuers = new[] { SigningKey.Issuer }.ToFrozenSet(StringComparer.Ordinal),
        Audiences = new[] { "other-app", SigningKey.Audience }.ToFrozenSet(StringComparer.Ordinal),
    };

    private static async Task<TestGateway> StartAsync(JwksServer jwks, TimeProvider? clock = null, IReadOnlyDictionary<string, string>? configs = null,
        Func<JwtAuthOptions, JwtAuthOptions>? jwt = null, string? keysDir = null, bool waitForKeys = true, Func<GatewaySettings, GatewaySettings>? settings = null)
    {
        var options = Options(jwks);
        var gw = await TestGateway.StartAsync(configs, settings, time: clock, server: o => o with
        {
            Auth = new AuthOptions { Jwt = jwt is null ? options : jwt(options), Keys = keysDir is not null, ApiKeysPath = keysDir },
        });
        if (waitForKeys)
        {
            var source = gw.App.Services.GetRequiredService<JwtAuthenticator>().Keys;
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (source.State.Keys is null && source.State.Problem is null)
            {
                Assert.True(DateTime.UtcNow < deadline, "the first JWKS fetch did not finish");
                await Task.Delay(10);
            }
        }
        return gw;
    }

    private static HttpRequestMessage HeaderModeChat(Uri upstream, string? portkeyApiKey, string traceId = "", string model = "gpt-4o-mini")
    {
        (string, string)[] headers = [.. Requests.HeaderMode(upstream)];
        if (portkeyApiKey is not null)
        {
            headers = [.. headers, ("x-portkey-api-key", portkeyApiKey)];
        }
        if (traceId.Length > 0)
        {
            headers = [.. headers, ("x-portkey-trace-id", traceId)];
        }
        return TestGateway.Post("/v1/chat/completions", Requests.Chat(model: model), headers);
    }

    private static HttpRequestMessage ConfigModeChat(string config, string bearer, string traceId = "") =>
        TestGateway.Post("/v1/chat/completions", Requests.Chat(),
            traceId.Length > 0
                ? [("x-portkey-config", config), ("Authorization", "Bearer " + bearer), ("x-portkey-trace-id", traceId)]
                : [("x-portkey-config", config), ("Authorization", "Bearer " + bearer)]);

    private static async Task<JsonElement> RefusedAsync(HttpResponseMessage response, HttpStatusCode status, string code, string token)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        var root = JsonDocument.Parse(text).RootElement;
        Assert.Equal("failure", root.GetProperty("status").GetString());
        var message = root.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Equal(code, root.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal($"Portkey Error: {message}. Error Code: {code}", root.GetProperty("message").GetString());
        Assert.Equal("true", response.Headers.GetValues("x-portkey-gateway-exception").Single());
        // Neither the token nor any of its parts comes back.
        foreach (var part in token.Split('.').Where(p => p.Length > 8))
        {
            Assert.DoesNotContain(part, text, StringComparison.Ordinal);
        }
        return root;
    }

    private static async Task<JsonElement> JwtHealthAsync(TestGateway gw) => (await (await gw.Client.GetAsync("/v1/health")).JsonAsync()).GetProperty("jwt");

    [Fact]
    public async Task A_valid_rsa_or_ec_jwt_is_accepted_its_name_and_team_are_logged_and_it_never_reaches_the_provider()
    {
        using var rsa = SigningKey.Rsa("rsa-1");
        using var ec = SigningKey.Ec("ec-1");
        await using var jwks = await JwksServer.StartAsync(rsa, ec);
        await using var sim = await OpenAiSimulator.StartAsync();
        var clock = new ManualClock();
        await using var gw = await StartAsync(jwks, clock, new Dictionary<string, string>
        {
            ["prod.json"] = Requests.Target(sim.BaseUrl, key: "sk-from-config"),
            // No api_key: the gateway would pass on the client's Authorization, which here holds the JWT.
            ["keyless.json"] = $$"""{"provider":"openai","custom_host":"{{sim.BaseUrl}}"}""",
        });
        var now = clock.GetUtcNow();

        // Config mode, JWT as bearer (what an OpenAI SDK sends): the config's key goes upstream, the JWT does not.
        var rsaToken = rsa.Token(now);
        var response = await gw.SendAsync(ConfigModeChat("prod", rsaToken, "jwt-rsa"));
        Assert.True(HttpStatusCode.OK == response.StatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal("Bearer sk-from-config", sim.Requests[^1].Headers["Authorization"]);

        // Header mode, JWT in x-portkey-api-key (what the Portkey SDKs send): the provider key in Authorization still reaches the provider.
        var ecToken = ec.Token(now, c => { c["sub"] = "svc-batch"; c["team"] = new JsonArray("data", "ops"); c["aud"] = new JsonArray("x", SigningKey.Audience); });
        response = await gw.SendAsync(HeaderModeChat(sim.BaseUrl, ecToken, "jwt-ec"));
        Assert.True(HttpStatusCode.OK == response.StatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal("Bearer " + Requests.Key, sim.Requests[^1].Headers["Authorization"]);
        await gw.SendAsync(ConfigModeChat("keyless", rsaToken));
        Assert.Equal(3, sim.Requests.Count);
        Assert.False(sim.Requests[^1].Headers.ContainsKey("Authorization"));
        foreach (var token in new[] { rsaToken, ecToken })
        {
            Assert.DoesNotContain(sim.Requests.SelectMany(r => r.Headers.Values), v => v.Contains(token.Split('.')[2], StringComparison.Ordinal));
        }

        var record = await RequestLogTests.RecordAsync(gw, "jwt-rsa");
        Assert.Equal("alice@example.com", record.GetProperty("api_key_name").GetString());
        Assert.Equal("payments", record.GetProperty("team").GetString());
        Assert.DoesNotContain(rsaToken.Split('.')[2], record.GetRawText(), StringComparison.Ordinal);
        record = await RequestLogTests.RecordAsync(gw, "jwt-ec");
        Assert.Equal("svc-batch", record.GetProperty("api_key_name").GetString());
        Assert.Equal("data", record.GetProperty("team").GetString());

        var health = await JwtHealthAsync(gw);
        Assert.Equal("ok", health.GetProperty("state").GetString());
        Assert.Equal("127.0.0.1", health.GetProperty("jwks_host").GetString());
        Assert.Equal(2, health.GetProperty("key_count").GetInt32());
        Assert.Equal(now, health.GetProperty("last_success").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, health.GetProperty("problem").ValueKind);
        Assert.Equal(1, jwks.Hits);
    }

    [Fact]
    public async Task Wrong_issuer_audience_times_signature_algorithm_and_scope_are_refused_with_portkey_codes()
    {
        using var rsa = SigningKey.Rsa("rsa-1");
        using var ec = SigningKey.Ec("ec-1");
        using var stranger = SigningKey.Rsa("rsa-1"); // same kid, a key the IdP never published
        await using var jwks = await JwksServer.StartAsync(rsa, ec);
        await using var sim = await OpenAiSimulator.StartAsync();
        var clock = new ManualClock();
        await using var gw = await StartAsync(jwks, clock);
        var now = clock.GetUtcNow();
        var t = now.ToUnixTimeSeconds();

        async Task<JsonElement> Refused(string token, HttpStatusCode status, string code) =>
            await RefusedAsync(await gw.SendAsync(HeaderModeChat(sim.BaseUrl, token)), status, code, token);
        async Task Accepted(string token)
        {
            var response = await gw.SendAsync(HeaderModeChat(sim.BaseUrl, token));
            Assert.True(HttpStatusCode.OK == response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        Assert.Contains("issuer", (await Refused(rsa.Token(now, c => c["iss"] = "https://evil.example"), HttpStatusCode.Unauthorized, "03"))
            .GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        await Refused(rsa.Token(now, c => c.Remove("iss")), HttpStatusCode.Unauthorized, "03");
        Assert.Contains("audience", (await Refused(ec.Token(now, c => c["aud"] = "someone-else"), HttpStatusCode.Unauthorized, "03"))
            .GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        await Refused(ec.Token(now, c => c["aud"] = new JsonArray("a", "b")), HttpStatusCode.Unauthorized, "03");
        // Expired beyond the 60 s skew: code 01. Within the skew: accepted.
        Assert.Equal("JWT has expired", (await Refused(rsa.Token(now, c => c["exp"] = t - 61), HttpStatusCode.Unauthorized, "01"))
            .GetProperty("error").GetProperty("message").GetString());
        await Accepted(rsa.Token(now, c => c["exp"] = t - 30));
        await Refused(rsa.Token(now, c => c.Remove("exp")), HttpStatusCode.Unauthorized, "03");
        // Not valid yet beyond the skew; within it accepted.
        await Refused(rsa.Token(now, c => c["nbf"] = t + 120), HttpStatusCode.Unauthorized, "03");
        await Accepted(rsa.Token(now, c => c["nbf"] = t + 30));
        // Signed by a key the IdP never published (same kid), and a payload changed after signing.
        await Refused(stranger.Token(now), HttpStatusCode.Unauthorized, "03");
        var good = rsa.Token(now).Split('.');
        await Refused($"{good[0]}.{SigningKey.B64("""{"iss":"https://idp.test.example","aud":"switchyard","sub":"mallory","exp":9999999999}""")}.{good[2]}",
            HttpStatusCode.Unauthorized, "03");
        // alg none, and HS256 keyed with the RSA key's public modulus (the classic confusion attack).
        var unsigned = SigningKey.B64("""{"alg":"none","typ":"JWT","kid":"rsa-1"}""") + "." + good[1] + ".";
        await Refused(unsigned, HttpStatusCode.Unauthorized, "03");
        var hsHeader = SigningKey.B64("""{"alg":"HS256","typ":"JWT","kid":"rsa-1"}""");
        var modulus = System.Buffers.Text.Base64Url.DecodeFromChars(rsa.Jwk()["n"]!.GetValue<string>());
        var mac = System.Security.Cryptography.HMACSHA256.HashData(modulus, Encoding.ASCII.GetBytes(hsHeader + "." + good[1]));
        await Refused(hsHeader + "." + good[1] + "." + SigningKey.B64(mac), HttpStatusCode.Unauthorized, "03");
        // An EC token claiming RS256 with the EC key's kid.
        await Refused(ec.Token(now, header: h => h["alg"] = "RS256"), HttpStatusCode.Unauthorized, "03");
        // No name claim.
        await Refused(rsa.Token(now, c => c.Remove("sub")), HttpStatusCode.Unauthorized, "03");
        // Scopes: a token with only logs.read may not chat; one without a scope claim gets JWT_DEFAULT_SCOPES (completions.write).
        var forbidden = await Refused(rsa.Token(now, c => c["scope"] = "openid logs.read"), HttpStatusCode.Forbidden, "033");
        Assert.Contains("JWT for 'alice@example.com' does not have the completions.write scope", forbidden.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        await Refused(rsa.Token(now, c => c["scope"] = new JsonArray("mcp.invoke")), HttpStatusCode.Forbidden, "033");
        await Accepted(rsa.Token(now, c => c["scope"] = new JsonArray("admin", "completions.write")));
        await Accepted(rsa.Token(now, c => c.Remove("scope")));
        Assert.Equal(4, sim.Requests.Count);

        // No credential at all, and a provider key alone: 401 code 03, the provider key not echoed.
        await RefusedAsync(await gw.SendAsync(HeaderModeChat(sim.BaseUrl, null)), HttpStatusCode.Unauthorized, "03", Requests.Key);
        Assert.Equal(4, sim.Requests.Count);
    }

    [Fact]
    public async Task An_unknown_kid_refetches_the_jwks_at_most_once_per_interval_and_a_key_rotation_is_picked_up()
    {
        using var k1 = SigningKey.Rsa("k1");
        using var k2 = SigningKey.Ec("k2");
        using var ghost = SigningKey.Rsa("ghost");
        await using var jwks = await JwksServer.StartAsync(k1);
        await using var sim = await OpenAiSimulator.StartAsync();
        var clock = new ManualClock();
        await using var gw = await StartAsync(jwks, clock);
        async Task<HttpStatusCode> Send(SigningKey key) => (await gw.SendAsync(HeaderModeChat(sim.BaseUrl, key.Token(clock.GetUtcNow())))).StatusCode;

        Assert.Equal(HttpStatusCode.OK, await Send(k1));
        Assert.Equal(1, jwks.Hits);
        // Right after a fetch an unknown kid does not fetch again.
        Assert.Equal(HttpStatusCode.Unauthorized, await Send(ghost));
        Assert.Equal(1, jwks.Hits);
        clock.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(HttpStatusCode.Unauthorized, await Send(ghost));
        Assert.Equal(2, jwks.Hits);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await Send(ghost));
        }
        Assert.Equal(2, jwks.Hits);

        // The IdP starts signing with a new key: picked up by the next unknown-kid fetch.
        jwks.Serve(k1, k2);
        clock.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(HttpStatusCode.OK, await Send(k2));
        Assert.Equal(3, jwks.Hits);
        Assert.Equal(HttpStatusCode.OK, await Send(k1));
        Assert.Equal(3, jwks.Hits);

        // The old key is retired: the periodic refresh (10 min) drops it, without the request that triggers it waiting.
        jwks.Serve(k2);
        clock.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(HttpStatusCode.OK, await Send(k2));
        var source = gw.App.Services.GetRequiredService<JwtAuthenticator>().Keys;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (source.State.Keys!.Find("k1") is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the background refresh did not happen");
            await Task.Delay(10);
        }
        Assert.Equal(4, jwks.Hits);
        Assert.Equal(HttpStatusCode.Unauthorized, await Send(k1));
        Assert.Equal(HttpStatusCode.OK, await Send(k2));
        Assert.Equal(1, (await JwtHealthAsync(gw)).GetProperty("key_count").GetInt32());
    }

    [Fact]
    public async Task An_unreachable_jwks_gets_503_naming_the_identity_provider_and_health_shows_it_while_earlier_keys_keep_serving()
    {
        using var key = SigningKey.Rsa("k1");
        await using var jwks = await JwksServer.StartAsync(key);
        jwks.Failing = true;
        await using var sim = await OpenAiSimulator.StartAsync();
        var clock = new ManualClock();
        await using var gw = await StartAsync(jwks, clock);

        var token = key.Token(clock.GetUtcNow());
        var response = await gw.SendAsync(HeaderModeChat(sim.BaseUrl, token));
        var body = await RefusedAsync(response, HttpStatusCode.ServiceUnavailable, "jwks_unavailable", token);
        Assert.Contains("identity provider's signing keys are unavailable", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("5", response.Headers.GetValues("Retry-After").Single());
        var health = await JwtHealthAsync(gw);
        Assert.Equal("unavailable", health.GetProperty("state").GetString());
        Assert.Contains("HTTP 503", health.GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, health.GetProperty("key_count").GetInt32());
        Assert.Empty(sim.Requests);

        // The IdP recovers: the next request after the refetch interval fetches and is served.
        jwks.Failing = false;
        clock.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(HeaderModeChat(sim.BaseUrl, key.Token(clock.GetUtcNow())))).StatusCode);
        Assert.Equal("ok", (await JwtHealthAsync(gw)).GetProperty("state").GetString());

        // It fails again at refresh time: the keys fetched earlier keep serving and health says degraded.
        jwks.Failing = true;
        clock.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(HeaderModeChat(sim.BaseUrl, key.Token(clock.GetUtcNow())))).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((health = await JwtHealthAsync(gw)).GetProperty("state").GetString() != "degraded")
        {
            Assert.True(DateTime.UtcNow < deadline, "health never showed the failed refresh");
            await Task.Delay(20);
        }
        Assert.Equal(1, health.GetProperty("key_count").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(HeaderModeChat(sim.BaseUrl, key.Token(clock.GetUtcNow())))).StatusCode);
    }

    [Fact]
    public async Task Keys_and_jwt_together_accept_a_gateway_key_or_a_jwt()
    {
        using var rsa = SigningKey.Rsa("rsa-1");
        await using var jwks = await JwksServer.StartAsync(rsa);
        await using var sim = await OpenAiSimulator.StartAsync();
        const string GatewayKey = "sy-combined-mode-key";
        var dir = Directory.CreateTempSubdirectory("switchyard-keys-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "keys.yaml"),
            $"keys:\n  - name: batch\n    team: data\n    hash: {ApiKeyHash.Format(GatewayKey)}\n    scopes: [completions.write]\n");
        var clock = new ManualClock();
        await using var gw = await StartAsync(jwks, clock, new Dictionary<string, string> { ["prod.json"] = Requests.Target(sim.BaseUrl, key: "sk-from-config") },
            keysDir: dir, settings: s => s with { Logs = s.Logs with { LookupEnabled = true } });
        var token = rsa.Token(clock.GetUtcNow());

        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(HeaderModeChat(sim.BaseUrl, GatewayKey, "both-key"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(HeaderModeChat(sim.BaseUrl, token, "both-jwt"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(ConfigModeChat("prod", GatewayKey))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(ConfigModeChat("prod", token))).StatusCode);
        Assert.Equal(4, sim.Requests.Count);
        Assert.Equal("Bearer " + Requests.Key, sim.Requests[0].Headers["Authorization"]);
        Assert.Equal("Bearer " + Requests.Key, sim.Requests[1].Headers["Authorization"]);
        Assert.Equal("Bearer sk-from-config", sim.Requests[2].Headers["Authorization"]);
        Assert.Equal("Bearer sk-from-config", sim.Requests[3].Headers["Authorization"]);
        Assert.Equal("batch", (await RequestLogTests.RecordAsync(gw, "both-key")).GetProperty("api_key_name").GetString());
        var jwtRecord = await RequestLogTests.RecordAsync(gw, "both-jwt");
        Assert.Equal("alice@example.com", jwtRecord.GetProperty("api_key_name").GetString());

        // GET /v1/logs/{id} needs logs.read: a JWT carrying it reads the record, one without it gets 403, the gateway key (no logs.read) too.
        var id = jwtRecord.GetProperty("_id").GetString();
        HttpRequestMessage Lookup(string credential) => TestGateway.With(new HttpRequestMessage(HttpMethod.Get, $"/v1/logs/{id}"), ("Authorization", "Bearer " + credential));
        var reader = rsa.Token(clock.GetUtcNow(), c => c["scope"] = "logs.read");
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(Lookup(reader))).StatusCode);
        await RefusedAsync(await gw.SendAsync(Lookup(token)), HttpStatusCode.Forbidden, "033", token);
        await RefusedAsync(await gw.SendAsync(TestGateway.With(new HttpRequestMessage(HttpMethod.Get, $"/v1/logs/{id}"), ("x-portkey-api-key", GatewayKey))),
            HttpStatusCode.Forbidden, "033", GatewayKey);

        await RefusedAsync(await gw.SendAsync(HeaderModeChat(sim.BaseUrl, "sy-wrong")), HttpStatusCode.Unauthorized, "03", "sy-wrong");
        var expired = rsa.Token(clock.GetUtcNow(), c => c["exp"] = clock.GetUtcNow().ToUnixTimeSeconds() - 3600);
        await RefusedAsync(await gw.SendAsync(ConfigModeChat("prod", expired)), HttpStatusCode.Unauthorized, "01", expired);
        await RefusedAsync(await gw.SendAsync(HeaderModeChat(sim.BaseUrl, null)), HttpStatusCode.Unauthorized, "03", Requests.Key);
        Assert.Equal(4, sim.Requests.Count);
        var health = await (await gw.Client.GetAsync("/v1/health")).JsonAsync();
        Assert.Equal("ok", health.GetProperty("keys").GetProperty("state").GetString());
        Assert.Equal("ok", health.GetProperty("jwt").GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_custom_jwt_header_carries_the_token_and_is_not_forwarded()
    {
        using var rsa = SigningKey.Rsa("rsa-1");
        await using var jwks = await JwksServer.StartAsync(rsa);
        await using var sim = await OpenAiSimulator.StartAsync();
        var clock = new ManualClock();
        await using var gw = await StartAsync(jwks, clock, jwt: o => o with { Header = "x-id-token" });
        var token = rsa.Token(clock.GetUtcNow());
        var request = HeaderModeChat(sim.BaseUrl, null);
        request.Headers.Add("x-id-token", token);
        request.Headers.Add("x-portkey-forward-headers", "x-id-token"); // would send it upstream, had the gateway not removed it
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(request)).StatusCode);
        Assert.False(sim.Requests[^1].Headers.ContainsKey("x-id-token"));
        Assert.Equal("Bearer " + Requests.Key, sim.Requests[^1].Headers["Authorization"]);
        // With JWT_HEADER set, Authorization belongs to the provider even when it holds a JWT.
        var bearer = TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-provider", "openai"), ("x-portkey-custom-host", sim.BaseUrl.ToString()),
            ("Authorization", "Bearer " + token));
        await RefusedAsync(await gw.SendAsync(bearer), HttpStatusCode.Unauthorized, "03", token);
    }

    /// <summary>Sends raw bytes, so header values HttpClient would refuse (non-ASCII, control characters) reach the server.</summary>
    /// <returns>The status; null when the server answered and closed before the request was fully sent and the answer was lost with the connection.</returns>
    private static async Task<int?> RawStatusAsync(Uri baseUrl, byte[] headerBlock)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(baseUrl.Host, baseUrl.Port);
        var stream = tcp.GetStream();
        var body = Encoding.UTF8.GetBytes(Requests.Chat());
        // One write: a small request lands in the socket buffer whole, even when the server refuses it at its first bad header.
        byte[] request = [.. Encoding.ASCII.GetBytes(
            $"POST /v1/chat/completions HTTP/1.1\r\nHost: {baseUrl.Authority}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n"),
            .. headerBlock, .. "\r\n"u8.ToArray(), .. body];
        try
        {
            await stream.WriteAsync(request);
            using var reader = new StreamReader(stream, Encoding.Latin1);
            var statusLine = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.NotNull(statusLine);
            return int.Parse(statusLine!.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    [Fact]
    public async Task Fuzzed_jwt_like_credentials_always_get_a_4xx_never_a_5xx()
    {
        using var rsa = SigningKey.Rsa("rsa-1");
        await using var jwks = await JwksServer.StartAsync(rsa);
        await using var sim = await OpenAiSimulator.StartAsync();
        var dir = Directory.CreateTempSubdirectory("switchyard-keys-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "keys.yaml"), $"keys:\n  - name: k\n    hash: {ApiKeyHash.Format("sy-fuzz-key")}\n    scopes: [completions.write]\n");
        var clock = new ManualClock();
        await using var gw = await StartAsync(jwks, clock, new Dictionary<string, string> { ["allowed.json"] = Requests.Target(sim.BaseUrl) }, keysDir: dir);
        var now = clock.GetUtcNow();
        string B(string s) => SigningKey.B64(s);
        var header = B("""{"alg":"RS256","kid":"rsa-1"}""");
        var payload = B("""{"sub":"a","exp":9999999999}""");
        byte[] U(string s) => Encoding.UTF8.GetBytes(s);
        string Signed(string h, string p) => rsa.Sign(U(h), U(p));
        var values = new List<(string Name, byte[] Value)>
        {
            ("only dots", U("..")), ("empty middle", U("a..c")), ("empty first", U(".b.c")), ("empty signature", U($"{header}.{payload}.")),
            ("four segments", U("a.b.c.d")), ("five segments (JWE shape)", U("a.b.c.d.e")), ("one-char segments", U("a.b.c")),
            ("invalid base64 length", U("abcde.abcde.abcde")), ("padding", U("e30=.e30=.e30=")),
            ("not JSON", U($"{B("not json")}.{payload}.c2ln")), ("JSON array header", U($"{B("[1,2]")}.{payload}.c2ln")),
            ("JSON string payload", U($"{header}.{B("\"x\"")}.c2ln")), ("duplicate members", U($"{B("""{"alg":"RS256","alg":"none"}""")}.{payload}.c2ln")),
            ("deep nesting", U($"{B(new string('[', 5000))}.{payload}.c2ln")), ("invalid UTF-8", U($"{SigningKey.B64(new byte[] { 0xff, 0xfe, 0x7b })}.{payload}.c2ln")),
            ("alg number", U($"{B("""{"alg":256,"kid":"rsa-1"}""")}.{payload}.c2ln")), ("kid object", U($"{B("""{"alg":"RS256","kid":{"a":1}}""")}.{payload}.c2ln")),
            ("kid 4 KB", U($"{B("{\"alg\":\"RS256\",\"kid\":\"" + new string('k', 4096) + "\"}")}.{payload}.c2ln")),
            ("no kid", U($"{B("""{"alg":"RS256"}""")}.{payload}.c2ln")), ("crit", U(Signed("""{"alg":"RS256","kid":"rsa-1","crit":["x"]}""", """{"sub":"a","exp":9999999999}"""))),
            ("20 KB token", U($"{header}.{new string('A', 20 * 1024)}.c2ln")), ("60 KB token", U($"{header}.{new string('A', 60 * 1024)}.c2ln")),
            ("non-ASCII UTF-8", U("ключ.ключ.ключ")), ("non-ASCII Latin-1", Encoding.Latin1.GetBytes("clé.clé.clé")),
            ("control characters", [.. U("a.b"), 0x01, 0x1b, .. U(".c")]), ("signature not base64", U($"{header}.{payload}.!!!")),
            ("exp string", U(Signed("""{"alg":"RS256","kid":"rsa-1"}""", """{"sub":"a","exp":"soon"}"""))),
            ("exp overflow", U(Signed("""{"alg":"RS256","kid":"rsa-1"}""", """{"sub":"a","exp":1e400}"""))),
            ("nbf object", U(Signed("""{"alg":"RS256","kid":"rsa-1"}""", """{"sub":"a","exp":9999999999,"nbf":{}}"""))),
            ("sub object", U(Signed("""{"alg":"RS256","kid":"rsa-1"}""", """{"sub":{"x":1},"exp":9999999999,"iss":"https://idp.test.example","aud":"switchyard"}"""))),
            ("aud number", U(Signed("""{"alg":"RS256","kid":"rsa-1"}""", """{"sub":"a","exp":9999999999,"iss":"https://idp.test.example","aud":7}"""))),
            ("scope number", U(rsa.Token(now, c => c["scope"] = 7))), ("scope nested arrays", U(rsa.Token(now, c => c["scope"] = new JsonArray(new JsonArray("completions.write"))))),
            ("team object and sub with control characters", U(rsa.Token(now, c => { c["team"] = new JsonObject(); c["scope"] = "logs.read"; c["sub"] = "a\u0001\nb"; }))),
            ("huge signature", U($"{header}.{payload}.{new string('s', 8000)}")),
        };
        var provider = $"x-portkey-provider: openai\r\nx-portkey-custom-host: {sim.BaseUrl}\r\n";
        foreach (var (name, value) in values)
        {
            byte[][] placements =
            [
                [.. U(provider + "x-portkey-api-key: "), .. value, .. U("\r\n")],
                [.. U("x-portkey-config: allowed\r\nAuthorization: Bearer "), .. value, .. U("\r\n")],
                [.. U(provider + "Authorization: Bearer sk-provider\r\nx-portkey-api-key: "), .. value, .. U("\r\n")],
            ];
            foreach (var headers in placements)
            {
                var status = await RawStatusAsync(gw.BaseUrl, headers);
                // Only a request larger than Kestrel's header limit may be cut off mid-send (Kestrel answers 431 and closes).
                Assert.True(status is >= 400 and < 500 || (status is null && headers.Length > 32 * 1024), $"{name}: got {status?.ToString() ?? "no answer"}");
            }
        }
        Assert.Empty(sim.Requests);
        // Still serving.
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(HeaderModeChat(sim.BaseUrl, rsa.Token(now)))).StatusCode);
    }

    [Fact]
    public void Jwt_settings_have_defaults_and_refuse_missing_or_unsafe_values_naming_the_variable()
    {
        Func<string, string?> Env(params (string Name, string Value)[] values) => n => values.FirstOrDefault(v => v.Name == n).Value;
        var jwt = ServerOptions.FromEnvironment(Env(("AUTH_MODE", "jwt"), ("JWT_JWKS_URL", "https://idp.example.com/jwks"))).Auth;
        Assert.False(jwt.Keys);
        var o = jwt.Jwt!;
        Assert.Equal(new Uri("https://idp.example.com/jwks"), o.JwksUrl);
        Assert.Null(o.Issuers);
        Assert.Null(o.Audiences);
        Assert.Equal(TimeSpan.FromSeconds(60), o.ClockSkew);
        Assert.Equal(("sub", "team", "scope"), (o.NameClaim, o.TeamClaim, o.ScopesClaim));
        Assert.Equal(new[] { "completions.write" }, o.DefaultScopes);
        Assert.True(o.Algorithms.Contains("RS256") && o.Algorithms.Contains("ES256"));
        Assert.DoesNotContain(o.Algorithms, a => a.StartsWith("HS", StringComparison.Ordinal) || a == "none");
        Assert.Null(o.Header);

        var custom = ServerOptions.FromEnvironment(Env(("AUTH_MODE", "keys, JWT"), ("API_KEYS_PATH", "/k"), ("JWT_JWKS_URL", "http://keycloak:8080/certs"),
            ("JWT_ISSUER", "https://a, https://b"), ("JWT_AUDIENCE", "x,y"), ("JWT_ALGORITHMS", "ES384"), ("JWT_CLOCK_SKEW_SECONDS", "5"),
            ("JWT_NAME_CLAIM", "email"), ("JWT_TEAM_CLAIM", "org.team"), ("JWT_SCOPES_CLAIM", "scp"), ("JWT_DEFAULT_SCOPES", "logs.read, completions.write"),
            ("JWT_HEADER", "X-Id-Token"), ("JWT_JWKS_REFRESH_SECONDS", "60"))).Auth;
        Assert.True(custom.Keys);
        o = custom.Jwt!;
        Assert.Equal(new[] { "https://a", "https://b" }, o.Issuers!.Order());
        Assert.Equal(new[] { "x", "y" }, o.Audiences!.Order());
        Assert.Equal(new[] { "ES384" }, o.Algorithms);
        Assert.Equal(TimeSpan.FromSeconds(5), o.ClockSkew);
        Assert.Equal(("email", "org.team", "scp"), (o.NameClaim, o.TeamClaim, o.ScopesClaim));
        Assert.Equal(new[] { "completions.write", "logs.read" }, o.DefaultScopes.Order());
        Assert.Equal("X-Id-Token", o.Header);
        Assert.Equal(TimeSpan.FromSeconds(60), o.RefreshInterval);
        Assert.Empty(ServerOptions.FromEnvironment(Env(("AUTH_MODE", "jwt"), ("JWT_JWKS_URL", "https://i/j"), ("JWT_DEFAULT_SCOPES", "none"))).Auth.Jwt!.DefaultScopes);

        void Refused(string variable, params (string, string)[] env)
        {
            var message = Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env([("AUTH_MODE", "jwt"), .. env]))).Message;
            Assert.Contains(variable, message, StringComparison.Ordinal);
        }
        Refused("JWT_JWKS_URL");
        Refused("JWT_JWKS_URL", ("JWT_JWKS_URL", "idp.example.com/jwks"));
        Refused("JWT_JWKS_URL", ("JWT_JWKS_URL", "ftp://idp.example.com/jwks"));
        Refused("JWT_ALGORITHMS", ("JWT_JWKS_URL", "https://i/j"), ("JWT_ALGORITHMS", "RS256,none"));
        Refused("JWT_ALGORITHMS", ("JWT_JWKS_URL", "https://i/j"), ("JWT_ALGORITHMS", "HS256"));
        Refused("JWT_ALGORITHMS", ("JWT_JWKS_URL", "https://i/j"), ("JWT_ALGORITHMS", "RS999"));
        Refused("JWT_CLOCK_SKEW_SECONDS", ("JWT_JWKS_URL", "https://i/j"), ("JWT_CLOCK_SKEW_SECONDS", "-1"));
        Refused("JWT_CLOCK_SKEW_SECONDS", ("JWT_JWKS_URL", "https://i/j"), ("JWT_CLOCK_SKEW_SECONDS", "1m"));
        Refused("JWT_DEFAULT_SCOPES", ("JWT_JWKS_URL", "https://i/j"), ("JWT_DEFAULT_SCOPES", "completions.write,everything"));
        Refused("JWT_HEADER", ("JWT_JWKS_URL", "https://i/j"), ("JWT_HEADER", "bad header"));
        Refused("JWT_JWKS_REFRESH_SECONDS", ("JWT_JWKS_URL", "https://i/j"), ("JWT_JWKS_REFRESH_SECONDS", "1"));
    }

    [Fact]
    public async Task The_openai_and_portkey_npm_sdks_send_a_jwt_that_the_gateway_accepts()
    {
        using var rsa = SigningKey.Rsa("rsa-1");
        await using var jwks = await JwksServer.StartAsync(rsa);
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = "sk-node" });
        await using var gw = await StartAsync(jwks, configs: new Dictionary<string, string> { ["node-named.json"] = Requests.Target(sim.BaseUrl, "sk-node") });
        // The script's three cases with a JWT as the gateway credential: portkey-ai apiKey (x-portkey-api-key) in header mode, a wrong
        // credential refused with 401, and the openai SDK's apiKey as Bearer in config mode.
        var (stdout, exitCode) = await NodeClients.RunAsync("gateway-key-check.mjs", new Dictionary<string, string>
        {
            ["GATEWAY_URL"] = gw.V1.ToString(),
            ["UPSTREAM_URL"] = sim.BaseUrl.ToString(),
            ["PROVIDER_API_KEY"] = "sk-node",
            ["GATEWAY_KEY"] = rsa.Token(DateTimeOffset.UtcNow),
            ["CONFIG_NAME"] = "node-named",
        }, TimeSpan.FromSeconds(120), output, "portkey-ai");
        var cases = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, cases.Count);
        Assert.True(exitCode == 0, stdout);
        Assert.Equal(2, sim.Requests.Count);
        Assert.All(sim.Requests, r => Assert.Equal("Bearer sk-node", r.Headers["Authorization"]));
    }
}
