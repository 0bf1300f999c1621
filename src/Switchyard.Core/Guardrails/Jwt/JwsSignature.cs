namespace Switchyard.Core.Guardrails.Jwt;

/// <summary>The signature half of JWT validation, shared by the <c>default.jwt</c> guardrail and <c>AUTH_MODE=jwt</c>.</summary>
internal static class JwsSignature
{
    /// <summary>Null when <paramref name="jwt"/> is signed by <paramref name="key"/> with an allowed algorithm; otherwise why not.</summary>
    /// <remarks>
    /// The algorithm is taken from the token only after it passed the allow list and matched the key's type, so a token
    /// cannot choose <c>none</c> or make an RSA public key act as an HMAC secret.
    /// </remarks>
    public static string? Check(JwtToken jwt, JsonWebKey key, IEnumerable<string> allowedAlgorithms)
    {
        var alg = jwt.Alg;
        if (alg is null || alg == "none") return "JWS \"alg\" (Algorithm) Header Parameter missing or not allowed";
        if (!allowedAlgorithms.Contains(alg)) return "\"alg\" (Algorithm) Header Parameter value not allowed";
        if (key.Alg is not null && key.Alg != alg) return "the key is not usable with the token's algorithm";
        if (!key.Supports(alg)) return "the key is not usable with the token's algorithm";
        if (jwt.Header["crit"] is not null) return "Extension Header Parameter \"crit\" is not supported";
        if (!key.Verify(alg, jwt.SignedPart, jwt.Signature)) return "signature verification failed";
        return null;
    }
}
