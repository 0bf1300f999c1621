using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Guardrails.Jwt;
using Switchyard.Core.Security.ApiKeys;

namespace Switchyard.Core.Security.Jwt;

/// <summary>Why a JWT was not accepted, in the terms the gateway answers with.</summary>
internal enum JwtFailure
{
    None,

    /// <summary>Malformed, badly signed, wrong issuer or audience, not valid yet, no name: 401 code 03.</summary>
    Invalid,

    /// <summary>Past <c>exp</c> (beyond the clock skew): 401 code 01.</summary>
    Expired,

    /// <summary>No signing key could ever be fetched from the identity provider: 503.</summary>
    KeysUnavailable,
}

/// <summary>The outcome of validating one JWT: the identity it carries, or why it was refused. Messages never contain the token.</summary>
internal readonly record struct JwtVerdict(ApiKey? Identity, JwtFailure Failure, string? Message)
{
    public static JwtVerdict Refuse(JwtFailure failure, string message) => new(null, failure, message);
}

/// <summary>
/// <c>AUTH_MODE=jwt</c>: checks a JWT issued by the customer's identity provider against its JWKS and turns it into the same
/// <see cref="ApiKey"/> a key file yields (name, team, scopes; no allow lists), so one authorization path serves both.
/// </summary>
internal sealed class JwtAuthenticator : IDisposable
{
    private const int MaxNameLength = 200;

    private readonly JwtAuthOptions _options;
    private readonly TimeProvider _time;

    public JwtAuthenticator(JwtAuthOptions options, TimeProvider time, ILogger logger, HttpMessageInvoker? http = null)
    {
        _options = options;
        _time = time;
        Keys = new JwksKeySource(options, time, logger, http);
    }

    public JwtAuthOptions Options => _options;

    public JwksKeySource Keys { get; }

    /// <summary>Three base64url segments (the third may be empty, so an unsigned token is recognised and refused, not taken for a provider key).</summary>
    public static bool LooksLikeJwt(ReadOnlySpan<char> value)
    {
        var dots = 0;
        var segmentStart = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '.')
            {
                if (i == segmentStart || ++dots > 2)
                {
                    return false;
                }
                segmentStart = i + 1;
            }
            else if (!(c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_'))
            {
                return false;
            }
        }
        return dots == 2;
    }

    public ValueTask<JwtVerdict> ValidateAsync(string token, CancellationToken ct)
    {
        if (token.Length > _options.MaxTokenLength)
        {
            return new(JwtVerdict.Refuse(JwtFailure.Invalid, $"Invalid JWT: longer than {_options.MaxTokenLength} characters"));
        }
        var jwt = JwtToken.TryParse(token, out _);
        if (jwt is null)
        {
            // The parser's own message may quote decoded bytes of the token; say only what is wrong.
            return new(JwtVerdict.Refuse(JwtFailure.Invalid, "Invalid JWT: not a signed JWT with a JSON header and payload"));
        }
        var alg = jwt.Alg;
        if (alg is null || !_options.Algorithms.Contains(alg))
        {
            return new(JwtVerdict.Refuse(JwtFailure.Invalid, "Invalid JWT: its algorithm is not accepted (JWT_ALGORITHMS)"));
        }
        var lookup = Keys.FindAsync(jwt.Kid, ct);
        return lookup.IsCompletedSuccessfully ? new(Verify(jwt, lookup.Result)) : AwaitKeysAsync(jwt, lookup);
    }

    private async ValueTask<JwtVerdict> AwaitKeysAsync(JwtToken jwt, ValueTask<IReadOnlyList<JsonWebKey>?> lookup) => Verify(jwt, await lookup.ConfigureAwait(false));

    private JwtVerdict Verify(JwtToken jwt, IReadOnlyList<JsonWebKey>? keys)
    {
        if (keys is null)
        {
            return JwtVerdict.Refuse(JwtFailure.KeysUnavailable,
                $"The identity provider's signing keys are unavailable (JWKS at {_options.JwksUrl.Host}); retry shortly");
        }
        if (keys.Count == 0)
        {
            return JwtVerdict.Refuse(JwtFailure.Invalid, "Invalid JWT: no signing key of the identity provider matches its kid");
        }
        string? problem = null;
        foreach (var key in keys)
        {
            try
            {
                problem = JwsSignature.Check(jwt, key, _options.Algorithms);
            }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                // A published key the platform cannot load (an odd RSA exponent, say) fails this token, never the request with a 500.
                problem = "signature verification failed";
            }
            if (problem is null)
            {
                break;
            }
        }
        if (problem is not null)
        {
            return JwtVerdict.Refuse(JwtFailure.Invalid, "Invalid JWT: " + problem);
        }
        return Claims(jwt.Payload);
    }

    private JwtVerdict Claims(JsonObject payload)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var skew = _options.ClockSkew.TotalSeconds;
        // No exp is refused: a token that never expires is a permanent credential nobody can revoke short of rotating the IdP's keys.
        if (!TryNumber(payload["exp"], out var exp))
        {
            return JwtVerdict.Refuse(JwtFailure.Invalid, "Invalid JWT: the exp claim is missing or not a number");
        }
        if (now >= exp + skew)
        {
            return JwtVerdict.Refuse(JwtFailure.Expired, "JWT has expired");
        }
        if (payload["nbf"] is { } nbfNode)
        {
            if (!TryNumber(nbfNode, out var nbf))
            {
                return JwtVerdict.Refuse(JwtFailure.Invalid, "Invalid JWT: the nbf claim is not a number");
            }
            if (nbf > now + skew)
            {
                return JwtVerdict.Refuse(JwtFailure.Invalid, "Invalid JWT: it is not valid yet (nbf)");
            }
        }
        if (_options.Issuers is { } issuers && !(Text(payload["iss"]) is { } iss && issuers.Contains(iss)))
        {
            return JwtVerdict.Refuse(JwtFailure.Invalid, "Invalid JWT: its issuer is not accepted (JWT_ISSUER)");
        }
        if (_options.Audiences is { } audiences && !HasAudience(payload["aud"], audiences))
        {
            return JwtVerdict.Refuse(JwtFailure.Invalid, "Invalid JWT: its audience is not accepted (JWT_AUDIENCE)");
        }
        if (Text(Claim(payload, _options.NameClaim)) is not { Length: > 0 } name)
        {
            return JwtVerdict.Refuse(JwtFailure.Invalid, $"Invalid JWT: it has no {_options.NameClaim} claim (JWT_NAME_CLAIM)");
        }
        var team = Claim(payload, _options.TeamClaim) switch
        {
            JsonArray groups => groups.Select(Text).FirstOrDefault(t => t is { Length: > 0 }),
            var one => Text(one),
        };
        return new JwtVerdict(new ApiKey
        {
            Name = Printable(name),
            Team = team is null ? null : Printable(team),
            Hash = [], // no key behind this identity; ApiKeyGate tells the two apart by it
            Scopes = Scopes(Claim(payload, _options.ScopesClaim)),
            File = "jwt",
        }, JwtFailure.None, null);
    }

    /// <summary>The scopes claim as a space-separated string or an array; values that are not Switchyard scopes are ignored.</summary>
    private FrozenSet<string> Scopes(JsonNode? claim)
    {
        if (claim is null)
        {
            return _options.DefaultScopes;
        }
        IEnumerable<string> values = claim switch
        {
            JsonArray array => array.Select(Text).OfType<string>(),
            JsonValue v when v.TryGetValue<string>(out var s) => s.Split((char[])[' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries),
            _ => [],
        };
        return values.Where(ApiKeyScopes.All.Contains).ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>A claim by name; a name with dots that is not a claim itself walks nested objects (<c>realm_access.team</c>).</summary>
    private static JsonNode? Claim(JsonObject payload, string name)
    {
        if (payload.TryGetPropertyValue(name, out var value) || !name.Contains('.'))
        {
            return value;
        }
        JsonNode? node = payload;
        foreach (var part in name.Split('.'))
        {
            if (node is not JsonObject obj || !obj.TryGetPropertyValue(part, out node))
            {
                return null;
            }
        }
        return node;
    }

    private static bool HasAudience(JsonNode? aud, FrozenSet<string> accepted) => aud switch
    {
        JsonArray list => list.Any(a => Text(a) is { } s && accepted.Contains(s)),
        _ => Text(aud) is { } one && accepted.Contains(one),
    };

    private static string? Text(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<long>(out var n) => n.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };

    private static bool TryNumber(JsonNode? node, out double value)
    {
        value = 0;
        return node is JsonValue v && v.TryGetValue(out value) && double.IsFinite(value);
    }

    /// <summary>Claim values go into request logs and error messages: no control characters, bounded length.</summary>
    private static string Printable(string value)
    {
        var s = value.Length > MaxNameLength ? value[..MaxNameLength] : value;
        if (!s.Any(char.IsControl))
        {
            return s;
        }
        var b = new StringBuilder(s.Length);
        foreach (var ch in s)
        {
            b.Append(char.IsControl(ch) ? '?' : ch);
        }
        return b.ToString();
    }

    public void Dispose() => Keys.Dispose();
}
