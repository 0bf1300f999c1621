using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Switchyard.Core.Guardrails;
using Switchyard.Core.Requests;
using Switchyard.Tests.Infrastructure;
using Xunit;
using static Switchyard.Tests.Guardrails.GuardrailKit;

namespace Switchyard.Tests.Guardrails;

public sealed class JwtCheckTests : IAsyncLifetime
{
    private const HookEvent Before = HookEvent.BeforeRequest;
    private readonly RSA _key1 = RSA.Create(2048);
    private readonly RSA _key2 = RSA.Create(2048);
    private readonly ManualClock _clock = new();
    private LoopbackServer _server = null!;
    private volatile string _jwks = "";
    private volatile int _status = 200;
    private GuardrailServices _services = null!;

    public async Task InitializeAsync()
    {
        _jwks = Jwks(("k1", _key1));
        _server = await LoopbackServer.StartAsync(async (ctx, _) =>
        {
            ctx.Response.StatusCode = _status;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(_jwks);
        });
        _services = Services(time: _clock);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private int JwksFetches => _server.Requests.Count(r => r.PathAndQuery == "/jwks");

    private IGuardrailCheck Jwt(string extra = "") =>
        Check("default.jwt", $$"""{"jwksUri":"{{_server.Url("/jwks")}}"{{extra}}}""", Before, _services);

    private static string B64(byte[] bytes) => Base64Url.EncodeToString(bytes);

    private static string Jwks(params (string Kid, RSA Key)[] keys)
    {
        var array = new JsonArray();
        foreach (var (kid, key) in keys)
        {
            var p = key.ExportParameters(false);
            array.Add((JsonNode)new JsonObject { ["kty"] = "RSA", ["kid"] = kid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = B64(p.Modulus!), ["e"] = B64(p.Exponent!) });
        }
        return new JsonObject { ["keys"] = array }.ToJsonString();
    }

    private string Token(RSA key, string kid, JsonObject? claims = null, long? iatOffset = 0, long expOffset = 3600)
    {
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var payload = claims ?? new JsonObject { ["sub"] = "user-1" };
        if (iatOffset is long io) payload["iat"] = now + io;
        payload["exp"] = now + expOffset;
        var header = new JsonObject { ["alg"] = "RS256", ["kid"] = kid, ["typ"] = "JWT" };
        var signingInput = B64(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + B64(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + B64(signature);
    }

    private static HookContext WithToken(string token, string header = "Authorization") =>
        Chat("hi", headers: new HeaderBag().Set(header, "Bearer " + token));

    [Fact]
    public async Task A_valid_token_passes_and_the_jwks_is_fetched_once()
    {
        var check = Jwt();
        var first = await check.RunAsync(WithToken(Token(_key1, "k1")), Before);
        Assert.True(first.Verdict, first.Data!.ToJsonString());
        Assert.Equal("JWT token validation succeeded", Str(first.Data!["explanation"]));
        Assert.True((await check.RunAsync(WithToken(Token(_key1, "k1")), Before)).Verdict);
        Assert.Equal(1, JwksFetches);
    }

    [Fact]
    public async Task Expired_tokens_fail_beyond_the_clock_tolerance()
    {
        var check = Jwt();
        var expired = await check.RunAsync(WithToken(Token(_key1, "k1", expOffset: -60)), Before);
        Assert.False(expired.Verdict);
        Assert.Null(expired.Error);
        Assert.Contains("\"exp\" claim timestamp check failed", Str(expired.Data!["explanation"]));
        // Three seconds past expiry is inside the default 5 s tolerance.
        Assert.True((await check.RunAsync(WithToken(Token(_key1, "k1", expOffset: -3)), Before)).Verdict);
    }

    [Fact]
    public async Task Missing_header_bad_signature_and_garbage_fail()
    {
        var check = Jwt();
        var missing = await check.RunAsync(Chat("hi"), Before);
        Assert.False(missing.Verdict);
        Assert.Equal("Missing authorization header", Str(missing.Data!["explanation"]));
        var forged = await check.RunAsync(WithToken(Token(_key2, "k1")), Before);
        Assert.False(forged.Verdict);
        Assert.Contains("signature", Str(forged.Data!["explanation"]));
        Assert.False((await check.RunAsync(WithToken("not.a.jwt"), Before)).Verdict);
    }

    [Fact]
    public async Task Unknown_kid_refetches_the_jwks_once_the_minimum_interval_has_passed()
    {
        var check = Jwt();
        Assert.True((await check.RunAsync(WithToken(Token(_key1, "k1")), Before)).Verdict);
        _jwks = Jwks(("k1", _key1), ("k2", _key2)); // the provider rotates in a new key

        var tooSoon = await check.RunAsync(WithToken(Token(_key2, "k2")), Before);
        Assert.False(tooSoon.Verdict);
        Assert.Equal("No matching key found for kid", Str(tooSoon.Data!["explanation"]));
        Assert.Equal(1, JwksFetches);

        _clock.Advance(TimeSpan.FromSeconds(11));
        var rotated = await check.RunAsync(WithToken(Token(_key2, "k2")), Before);
        Assert.True(rotated.Verdict, rotated.Data!.ToJsonString());
        Assert.Equal(2, JwksFetches);
    }

    [Fact]
    public async Task The_cache_expires_after_cacheMaxAge()
    {
        var check = Jwt(""","cacheMaxAge":60""");
        Assert.True((await check.RunAsync(WithToken(Token(_key1, "k1")), Before)).Verdict);
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.True((await check.RunAsync(WithToken(Token(_key1, "k1")), Before)).Verdict);
        Assert.Equal(1, JwksFetches);
        _clock.Advance(TimeSpan.FromSeconds(31));
        Assert.True((await check.RunAsync(WithToken(Token(_key1, "k1")), Before)).Verdict);
        Assert.Equal(2, JwksFetches);
    }

    [Fact]
    public async Task Max_token_age_algorithms_and_custom_header()
    {
        var old = await Jwt(""","maxTokenAge":"1h" """).RunAsync(WithToken(Token(_key1, "k1", iatOffset: -7200)), Before);
        Assert.False(old.Verdict);
        Assert.Contains("iat", Str(old.Data!["explanation"]));
        Assert.False((await Jwt(""","algorithms":["ES256"]""").RunAsync(WithToken(Token(_key1, "k1")), Before)).Verdict);
        Assert.True((await Jwt(""","headerKey":"x-user-token" """).RunAsync(WithToken(Token(_key1, "k1"), "x-user-token"), Before)).Verdict);
    }

    [Fact]
    public async Task Claim_rules()
    {
        var claims = new JsonObject { ["sub"] = "user-1", ["scope"] = "read:api write:api", ["groups"] = new JsonArray("admins", "dev") };
        var token = Token(_key1, "k1", claims);
        var pass = await Jwt(""","requiredClaims":["sub"],"claimValues":{"scope":{"values":["read:api","write:api"],"matchType":"containsAll"},"sub":{"values":"user-1"}}""")
            .RunAsync(WithToken(token), Before);
        Assert.True(pass.Verdict, pass.Data!.ToJsonString());
        var missing = await Jwt(""","requiredClaims":["tenant"]""").RunAsync(WithToken(token), Before);
        Assert.False(missing.Verdict);
        Assert.Equal("tenant", Str(missing.Data!["validations"]!["requiredClaims"]!["missing"]![0]));
        var wrong = await Jwt(""","claimValues":{"groups":{"values":["^ops$"],"matchType":"regex"}}""").RunAsync(WithToken(token), Before);
        Assert.False(wrong.Verdict);
    }

    [Fact]
    public async Task Inline_jwks_needs_no_server()
    {
        var check = Check("default.jwt", $$"""{"jwks":{{Jwks(("k9", _key2))}}}""", Before, _services);
        Assert.True((await check.RunAsync(WithToken(Token(_key2, "k9")), Before)).Verdict);
        Assert.False((await check.RunAsync(WithToken(Token(_key1, "k9")), Before)).Verdict);
        Assert.Equal(0, JwksFetches);
    }

    [Fact]
    public async Task An_unreachable_jwks_is_an_error_that_fails_the_hook_by_default()
    {
        _status = 500;
        var definition = Definition("default.jwt", $$"""{"jwksUri":"{{_server.Url("/jwks")}}"}""", Before, _services);
        Assert.True(definition.FailOnError);
        var outcome = await definition.Check.RunAsync(WithToken(Token(_key1, "k1")), Before);
        Assert.False(outcome.Verdict);
        Assert.NotNull(outcome.Error);
        var optedOut = Definition("default.jwt", $$"""{"jwksUri":"{{_server.Url("/jwks")}}","failOnError":false}""", Before, _services);
        Assert.False(optedOut.FailOnError);
    }

    [Fact]
    public async Task Ec_keys_verify_es256()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = ec.ExportParameters(false);
        var jwks = new JsonObject { ["keys"] = new JsonArray(new JsonObject { ["kty"] = "EC", ["kid"] = "e1", ["crv"] = "P-256", ["x"] = B64(p.Q.X!), ["y"] = B64(p.Q.Y!) }) };
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var input = B64(Encoding.UTF8.GetBytes("""{"alg":"ES256","kid":"e1"}""")) + "." + B64(Encoding.UTF8.GetBytes($$"""{"sub":"x","exp":{{now + 60}}}"""));
        var token = input + "." + B64(ec.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256));
        var check = Check("default.jwt", $$"""{"jwks":{{jwks.ToJsonString()}},"algorithms":["ES256"]}""", Before, _services);
        Assert.True((await check.RunAsync(WithToken(token), Before)).Verdict);
    }
}
