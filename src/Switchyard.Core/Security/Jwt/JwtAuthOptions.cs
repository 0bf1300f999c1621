using System.Collections.Frozen;
using System.Globalization;
using Switchyard.Core.Security.ApiKeys;

namespace Switchyard.Core.Security.Jwt;

/// <summary>How <c>AUTH_MODE=jwt</c> validates a bearer JWT from the customer's identity provider (the <c>JWT_*</c> settings).</summary>
public sealed record JwtAuthOptions
{
    /// <summary>Asymmetric algorithms only: a JWKS is public, so an HMAC secret in it would let anyone sign tokens.</summary>
    public static readonly string[] SupportedAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

    /// <summary>The identity provider's key set (<c>JWT_JWKS_URL</c>).</summary>
    public required Uri JwksUrl { get; init; }

    /// <summary>Accepted <c>iss</c> values (<c>JWT_ISSUER</c>); null accepts any issuer.</summary>
    public FrozenSet<string>? Issuers { get; init; }

    /// <summary>Accepted <c>aud</c> values (<c>JWT_AUDIENCE</c>); null accepts any audience.</summary>
    public FrozenSet<string>? Audiences { get; init; }

    public FrozenSet<string> Algorithms { get; init; } = SupportedAlgorithms.ToFrozenSet(StringComparer.Ordinal);

    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(60);

    public string NameClaim { get; init; } = "sub";

    public string TeamClaim { get; init; } = "team";

    public string ScopesClaim { get; init; } = "scope";

    /// <summary>Scopes granted when the token has no scopes claim.</summary>
    public FrozenSet<string> DefaultScopes { get; init; } = new[] { ApiKeyScopes.CompletionsWrite }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>A header that carries the JWT instead of <c>Authorization</c> (<c>JWT_HEADER</c>); null means <c>Authorization: Bearer</c>.</summary>
    public string? Header { get; init; }

    /// <summary>How old the cached key set may get before a request triggers a background refresh (<c>JWT_JWKS_REFRESH_SECONDS</c>).</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How soon a token with an unknown <c>kid</c> (or a failed fetch) may cause another fetch: an attacker's random kids must not hammer the IdP.</summary>
    public TimeSpan MinRefetchInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest token accepted before any parsing.</summary>
    public int MaxTokenLength { get; init; } = 16 * 1024;

    /// <summary>Reads the <c>JWT_*</c> variables; a missing or malformed one throws <see cref="FormatException"/> naming it.</summary>
    public static JwtAuthOptions FromEnvironment(Func<string, string?> get)
    {
        string? Get(string name) => get(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

        var url = Get("JWT_JWKS_URL") ?? throw new FormatException(
            "AUTH_MODE=jwt needs JWT_JWKS_URL: the identity provider's JWKS endpoint, such as https://idp.example.com/.well-known/jwks.json.");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var jwks) || jwks.Scheme is not ("http" or "https") || string.IsNullOrEmpty(jwks.Host))
        {
            throw new FormatException($"JWT_JWKS_URL={url} is not valid: use the identity provider's JWKS URL with http:// or https://.");
        }
        var algorithms = List(Get("JWT_ALGORITHMS"));
        foreach (var alg in algorithms ?? [])
        {
            if (alg.Equals("none", StringComparison.OrdinalIgnoreCase))
            {
                throw new FormatException("JWT_ALGORITHMS must not contain none: unsigned tokens are never accepted.");
            }
            if (alg.StartsWith("HS", StringComparison.OrdinalIgnoreCase))
            {
                throw new FormatException($"JWT_ALGORITHMS={Get("JWT_ALGORITHMS")}: {alg} needs a shared secret, which a public JWKS must not hold; use {string.Join(", ", SupportedAlgorithms)}.");
            }
            if (Array.IndexOf(SupportedAlgorithms, alg) < 0)
            {
                throw new FormatException($"JWT_ALGORITHMS={Get("JWT_ALGORITHMS")}: {alg} is not supported; use {string.Join(", ", SupportedAlgorithms)}.");
            }
        }
        if (algorithms is { Count: 0 })
        {
            throw new FormatException("JWT_ALGORITHMS is empty: name at least one of " + string.Join(", ", SupportedAlgorithms) + ".");
        }
        var skew = Seconds(Get("JWT_CLOCK_SKEW_SECONDS"), "JWT_CLOCK_SKEW_SECONDS", 60, 0, 3600);
        var refresh = Seconds(Get("JWT_JWKS_REFRESH_SECONDS"), "JWT_JWKS_REFRESH_SECONDS", 600, 10, 86400);
        FrozenSet<string>? defaultScopes = null;
        if (Get("JWT_DEFAULT_SCOPES") is { } rawScopes)
        {
            var scopes = rawScopes.Equals("none", StringComparison.OrdinalIgnoreCase) ? new List<string>() : List(rawScopes)!;
            foreach (var scope in scopes)
            {
                if (!ApiKeyScopes.All.Contains(scope))
                {
                    throw new FormatException($"JWT_DEFAULT_SCOPES={rawScopes}: '{scope}' is not a scope; use {string.Join(", ", ApiKeyScopes.All.Order(StringComparer.Ordinal))}, or none.");
                }
            }
            defaultScopes = scopes.ToFrozenSet(StringComparer.Ordinal);
        }
        var header = Get("JWT_HEADER");
        if (header is not null && (header.Any(c => c <= ' ' || c >= 127 || c is ':' or '(' or ')' or ',' or '/' or ';' or '<' or '=' or '>' or '?' or '@' or '[' or '\\' or ']' or '{' or '}' or '"')))
        {
            throw new FormatException($"JWT_HEADER={header} is not a header name.");
        }
        if (header is not null && (header.Equals("authorization", StringComparison.OrdinalIgnoreCase) || header.Equals("x-portkey-api-key", StringComparison.OrdinalIgnoreCase)))
        {
            header = null; // Both are read anyway.
        }
        var d = new JwtAuthOptions { JwksUrl = jwks };
        return d with
        {
            Issuers = List(Get("JWT_ISSUER"))?.ToFrozenSet(StringComparer.Ordinal),
            Audiences = List(Get("JWT_AUDIENCE"))?.ToFrozenSet(StringComparer.Ordinal),
            Algorithms = algorithms?.ToFrozenSet(StringComparer.Ordinal) ?? d.Algorithms,
            ClockSkew = TimeSpan.FromSeconds(skew),
            RefreshInterval = TimeSpan.FromSeconds(refresh),
            NameClaim = Get("JWT_NAME_CLAIM") ?? d.NameClaim,
            TeamClaim = Get("JWT_TEAM_CLAIM") ?? d.TeamClaim,
            ScopesClaim = Get("JWT_SCOPES_CLAIM") ?? d.ScopesClaim,
            DefaultScopes = defaultScopes ?? d.DefaultScopes,
            Header = header,
        };
    }

    private static List<string>? List(string? raw) =>
        raw?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();

    private static int Seconds(string? raw, string name, int fallback, int min, int max)
    {
        if (raw is null)
        {
            return fallback;
        }
        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new FormatException($"{name}={raw} is not valid: use a whole number of seconds from {min} to {max}.");
        }
        return value;
    }
}
