using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails.Jwt;

/// <summary>One public (or shared-secret) key of a JWKS, parsed once into the platform key material it verifies with.</summary>
internal sealed class JsonWebKey
{
    private readonly RSAParameters? _rsa;
    private readonly ECParameters? _ec;
    private readonly byte[]? _secret;
    private readonly string? _crv;

    private JsonWebKey(string? kid, string kty, string? alg, RSAParameters? rsa, ECParameters? ec, byte[]? secret, string? crv = null)
    {
        _crv = crv;
        Kid = kid;
        Kty = kty;
        Alg = alg;
        _rsa = rsa;
        _ec = ec;
        _secret = secret;
    }

    public string? Kid { get; }

    public string Kty { get; }

    /// <summary>The algorithm the key is pinned to, when the JWKS says so.</summary>
    public string? Alg { get; }

    /// <summary>Parses one JWK; null with a reason when it is not a usable signing key.</summary>
    public static JsonWebKey? Parse(JsonObject jwk, out string? error)
    {
        error = null;
        var kty = Str(jwk["kty"]);
        var kid = Str(jwk["kid"]);
        var alg = Str(jwk["alg"]);
        if (Str(jwk["use"]) is { } use && use != "sig")
        {
            error = $"key '{kid}' is not a signing key (use '{use}')";
            return null;
        }
        try
        {
            switch (kty)
            {
                case "RSA":
                {
                    var n = Bytes(jwk["n"]);
                    var e = Bytes(jwk["e"]);
                    if (n is null || e is null)
                    {
                        error = $"RSA key '{kid}' needs 'n' and 'e'";
                        return null;
                    }
                    if (n.Length < 256)
                    {
                        error = $"RSA key '{kid}' is shorter than 2048 bits";
                        return null;
                    }
                    return new JsonWebKey(kid, kty, alg, new RSAParameters { Modulus = n, Exponent = e }, null, null);
                }
                case "EC":
                {
                    var curve = Str(jwk["crv"]) switch
                    {
                        "P-256" => ECCurve.NamedCurves.nistP256,
                        "P-384" => ECCurve.NamedCurves.nistP384,
                        "P-521" => ECCurve.NamedCurves.nistP521,
                        _ => (ECCurve?)null,
                    };
                    var x = Bytes(jwk["x"]);
                    var y = Bytes(jwk["y"]);
                    if (curve is null || x is null || y is null)
                    {
                        error = $"EC key '{kid}' needs crv P-256, P-384 or P-521 and 'x' and 'y'";
                        return null;
                    }
                    var ec = new ECParameters { Curve = curve.Value, Q = new ECPoint { X = x, Y = y } };
                    using (var probe = ECDsa.Create(ec)) { }
                    return new JsonWebKey(kid, kty, alg, null, ec, null, Str(jwk["crv"]));
                }
                case "oct":
                {
                    var k = Bytes(jwk["k"]);
                    if (k is null || k.Length == 0)
                    {
                        error = $"oct key '{kid}' needs 'k'";
                        return null;
                    }
                    return new JsonWebKey(kid, kty, alg, null, null, k);
                }
                default:
                    error = $"key '{kid}' has unsupported kty '{kty}' (RSA, EC and oct are supported)";
                    return null;
            }
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            error = $"key '{kid}' is malformed: {ex.Message}";
            return null;
        }
    }

    /// <summary>Whether this key can verify a signature made with <paramref name="alg"/>.</summary>
    public bool Supports(string alg) => Kty switch
    {
        "RSA" => alg is "RS256" or "RS384" or "RS512" or "PS256" or "PS384" or "PS512",
        "EC" => (alg, _crv) is ("ES256", "P-256") or ("ES384", "P-384") or ("ES512", "P-521"),
        "oct" => alg is "HS256" or "HS384" or "HS512",
        _ => false,
    };

    public bool Verify(string alg, ReadOnlySpan<byte> signedPart, ReadOnlySpan<byte> signature)
    {
        var hash = alg[2..] switch
        {
            "256" => HashAlgorithmName.SHA256,
            "384" => HashAlgorithmName.SHA384,
            "512" => HashAlgorithmName.SHA512,
            _ => default,
        };
        if (hash == default) return false;
        switch (alg[0])
        {
            case 'R':
            case 'P':
            {
                using var rsa = RSA.Create(_rsa!.Value);
                var padding = alg[0] == 'R' ? RSASignaturePadding.Pkcs1 : RSASignaturePadding.Pss;
                return rsa.VerifyData(signedPart, signature, hash, padding);
            }
            case 'E':
            {
                using var ecdsa = ECDsa.Create(_ec!.Value);
                return ecdsa.VerifyData(signedPart, signature, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            }
            case 'H':
            {
                Span<byte> mac = stackalloc byte[64];
                var written = alg[2..] switch
                {
                    "256" => HMACSHA256.HashData(_secret, signedPart, mac),
                    "384" => HMACSHA384.HashData(_secret, signedPart, mac),
                    _ => HMACSHA512.HashData(_secret, signedPart, mac),
                };
                return CryptographicOperations.FixedTimeEquals(mac[..written], signature);
            }
            default:
                return false;
        }
    }

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static byte[]? Bytes(JsonNode? node) => Str(node) is { } s ? Base64Url.DecodeFromChars(s) : null;
}
