using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Switchyard.Gateway;

namespace Switchyard.Tests.Security;

/// <summary>An identity provider's signing key made in the test: its public JWK, and tokens it signs.</summary>
internal sealed class SigningKey : IDisposable
{
    public const string Issuer = "https://idp.test.example";
    public const string Audience = "switchyard";

    private readonly RSA? _rsa;
    private readonly ECDsa? _ec;

    private SigningKey(string kid, string alg, RSA? rsa, ECDsa? ec)
    {
        Kid = kid;
        Alg = alg;
        _rsa = rsa;
        _ec = ec;
    }

    public string Kid { get; }

    public string Alg { get; }

    public static SigningKey Rsa(string kid) => new(kid, "RS256", RSA.Create(2048), null);

    public static SigningKey Ec(string kid) => new(kid, "ES256", null, ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public JsonObject Jwk()
    {
        if (_rsa is not null)
        {
            var p = _rsa.ExportParameters(false);
            return new JsonObject { ["kty"] = "RSA", ["kid"] = Kid, ["use"] = "sig", ["alg"] = Alg, ["n"] = B64(p.Modulus!), ["e"] = B64(p.Exponent!) };
        }
        var q = _ec!.ExportParameters(false).Q;
        return new JsonObject { ["kty"] = "EC", ["kid"] = Kid, ["use"] = "sig", ["crv"] = "P-256", ["x"] = B64(q.X!), ["y"] = B64(q.Y!) };
    }

    /// <summary>A token from <see cref="Issuer"/> for <see cref="Audience"/>, valid for ten minutes from <paramref name="now"/>, edited by the callbacks.</summary>
    public string Token(DateTimeOffset now, Action<JsonObject>? claims = null, Action<JsonObject>? header = null)
    {
        var h = new JsonObject { ["alg"] = Alg, ["typ"] = "JWT", ["kid"] = Kid };
        var t = now.ToUnixTimeSeconds();
        var p = new JsonObject
        {
            ["iss"] = Issuer,
            ["aud"] = Audience,
            ["sub"] = "alice@example.com",
            ["team"] = "payments",
            ["scope"] = "openid profile completions.write",
            ["iat"] = t - 10,
            ["exp"] = t + 600,
        };
        claims?.Invoke(p);
        header?.Invoke(h);
        return Sign(Encoding.UTF8.GetBytes(h.ToJsonString()), Encoding.UTF8.GetBytes(p.ToJsonString()));
    }

    /// <summary>Signs raw header and payload bytes, so tests can send JSON no serializer would write.</summary>
    public string Sign(byte[] header, byte[] payload)
    {
        var signed = B64(header) + "." + B64(payload);
        var data = Encoding.ASCII.GetBytes(signed);
        var signature = _rsa is not null
            ? _rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : _ec!.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signed + "." + B64(signature);
    }

    public static string B64(byte[] bytes) => Base64Url.EncodeToString(bytes);

    public static string B64(string text) => B64(Encoding.UTF8.GetBytes(text));

    public void Dispose()
    {
        _rsa?.Dispose();
        _ec?.Dispose();
    }
}

/// <summary>A JWKS endpoint on 127.0.0.1 the test controls: which keys it serves, whether it fails, how often it was asked.</summary>
internal sealed class JwksServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private volatile string _body = """{"keys":[]}""";
    private volatile bool _failing;
    private int _hits;

    private JwksServer(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public int Hits => Volatile.Read(ref _hits);

    /// <summary>Answer 503 instead of the key set.</summary>
    public bool Failing
    {
        get => _failing;
        set => _failing = value;
    }

    public void Serve(params SigningKey[] keys) =>
        _body = new JsonObject { ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode)k.Jwk())]) }.ToJsonString();

    public static async Task<JwksServer> StartAsync(params SigningKey[] keys)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new JwksServer(app);
        server.Serve(keys);
        app.MapGet("/.well-known/jwks.json", context =>
        {
            Interlocked.Increment(ref server._hits);
            if (server._failing)
            {
                context.Response.StatusCode = 503;
                return Task.CompletedTask;
            }
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(server._body);
        });
        await app.StartAsync();
        server.Url = new Uri(GatewayApp.BoundAddress(app), "/.well-known/jwks.json");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
