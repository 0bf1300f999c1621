using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Switchyard.Core.Guardrails.Jwt;

namespace Switchyard.Core.Guardrails.Checks;

/// <summary><c>default.jwt</c>: verifies the bearer JWT in a request header against a JWKS (fetched from <c>jwksUri</c> or inline).</summary>
/// <remarks>
/// A token that is missing, malformed, badly signed, expired or fails a claim rule gives verdict false without an
/// error (as in Portkey main), so it fails the hook whatever <c>failOnError</c> says. Only infrastructure trouble
/// (the JWKS cannot be fetched) is an error, and for this check <c>failOnError</c> defaults to true, so an unreachable
/// identity provider does not let every request through.
/// </remarks>
internal sealed partial class JwtCheck : IGuardrailCheck
{
    private readonly GuardrailServices _services;
    private readonly Uri? _jwksUri;
    private readonly JsonWebKeySet? _inlineKeys;
    private readonly string _headerKey;
    private readonly TimeSpan _cacheMaxAge;
    private readonly double _clockTolerance;
    private readonly double _maxTokenAge;
    private readonly List<string> _algorithms;
    private readonly List<string>? _requiredClaims;
    private readonly List<ClaimRule>? _claimValues;
    private readonly List<string>? _headerPayloadMatch;

    private JwtCheck(GuardrailServices services, Uri? jwksUri, JsonWebKeySet? inlineKeys, string headerKey, TimeSpan cacheMaxAge,
        double clockTolerance, double maxTokenAge, List<string> algorithms, List<string>? requiredClaims, List<ClaimRule>? claimValues,
        List<string>? headerPayloadMatch)
    {
        _services = services;
        _jwksUri = jwksUri;
        _inlineKeys = inlineKeys;
        _headerKey = headerKey;
        _cacheMaxAge = cacheMaxAge;
        _clockTolerance = clockTolerance;
        _maxTokenAge = maxTokenAge;
        _algorithms = algorithms;
        _requiredClaims = requiredClaims;
        _claimValues = claimValues;
        _headerPayloadMatch = headerPayloadMatch;
    }

    private static readonly string[] SupportedAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512"];

    public static IGuardrailCheck? Create(CheckParameters p)
    {
        foreach (var unsupported in (string[])["introspectEndpoint", "extractClaims"])
        {
            if (p.Has(unsupported)) p.Error(unsupported, $"'{unsupported}' is not supported by Switchyard's jwt check");
        }
        var jwksUri = p.Has("jwksUri") ? p.Url("jwksUri", required: true) : null;
        JsonWebKeySet? inline = null;
        if (p.Has("jwks"))
        {
            inline = JsonWebKeySet.Parse(p.Values["jwks"], out var jwksError);
            if (inline is null) p.Error("jwks", $"'jwks' is not a usable key set: {jwksError}");
        }
        else if (!p.Has("jwksUri"))
        {
            p.Error("jwksUri", "either 'jwksUri' or 'jwks' is required for default.jwt");
        }
        var headerKey = p.String("headerKey", required: false) ?? "Authorization";
        var cacheMaxAge = p.Number("cacheMaxAge", 86400, min: 0) ?? 86400;
        var clockTolerance = p.Number("clockTolerance", 5, min: 0) ?? 5;
        double maxTokenAge = 86400;
        if (p.Has("maxTokenAge"))
        {
            var raw = p.Values["maxTokenAge"];
            if (raw is JsonValue v && v.TryGetValue<double>(out var seconds) && seconds >= 0) maxTokenAge = seconds;
            else if (ContentLocator.ChatText(raw) is { } text && ParseDuration(text) is double parsed) maxTokenAge = parsed;
            else p.Error("maxTokenAge", "'maxTokenAge' must be a duration such as '1d', '12h', '30m', '45s' or a number of seconds");
        }
        var algorithms = p.StringArray("algorithms", required: false) ?? ["RS256"];
        foreach (var alg in algorithms)
        {
            if (Array.IndexOf(SupportedAlgorithms, alg) < 0) p.Error("algorithms", $"algorithm '{alg}' is not supported (use {string.Join(", ", SupportedAlgorithms)})");
        }
        var requiredClaims = p.StringArray("requiredClaims", required: false, allowEmpty: true);
        var headerPayloadMatch = p.StringArray("headerPayloadMatch", required: false, allowEmpty: true);
        List<ClaimRule>? claimValues = null;
        if (p.Object("claimValues", required: false) is { } rules)
        {
            claimValues = [];
            foreach (var (claim, config) in rules)
            {
                var path = $"claimValues.{claim}";
                if (config is not JsonObject c)
                {
                    p.Error(path, "must be an object with 'values' and optional 'matchType'");
                    continue;
                }
                var values = c["values"] switch
                {
                    JsonArray a when a.All(e => e is JsonValue) => a.Select(Stringify).ToList(),
                    JsonValue one => [Stringify(one)],
                    _ => null,
                };
                if (values is null || values.Count == 0)
                {
                    p.Error(path + ".values", "'values' must be a string or an array of strings");
                    continue;
                }
                var matchType = ContentLocator.ChatText(c["matchType"]) ?? "exact";
                if (matchType is not ("exact" or "contains" or "containsAll" or "regex"))
                {
                    p.Error(path + ".matchType", "'matchType' must be exact, contains, containsAll or regex");
                    continue;
                }
                List<Regex>? patterns = null;
                if (matchType == "regex")
                {
                    patterns = [];
                    foreach (var pattern in values)
                    {
                        var regex = p.Regex(path + ".values", pattern);
                        if (regex is not null) patterns.Add(regex);
                    }
                }
                claimValues.Add(new ClaimRule(claim, values, matchType, patterns));
            }
        }
        if (!p.Ok) return null;
        return new JwtCheck(p.Services, jwksUri, inline, headerKey, TimeSpan.FromSeconds(cacheMaxAge), clockTolerance, maxTokenAge,
            algorithms, requiredClaims, claimValues, headerPayloadMatch);
    }

    public async ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct)
    {
        var authHeader = context.Headers.Get(_headerKey);
        if (string.IsNullOrEmpty(authHeader)) return Fail("Missing authorization header");
        var token = BearerPrefix().Replace(authHeader, "").Trim();
        var jwt = JwtToken.TryParse(token, out var parseError);
        if (jwt is null) return Fail($"JWT validation error: {parseError}");

        JsonWebKey? key;
        try
        {
            key = await FindKeyAsync(jwt, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or Http.OutboundCallException)
        {
            return new CheckOutcome(false, new JsonObject
            {
                ["verdict"] = false,
                ["explanation"] = $"JWT validation error: {ex.Message}",
            }, CheckError.Of(ex.Message));
        }
        if (key is null) return Fail("No matching key found for kid");

        var signatureError = VerifySignatureAndTimes(jwt, key);
        if (signatureError is not null)
        {
            return Fail($"JWT signature validation error: {signatureError}", new JsonObject { ["signatureValid"] = false });
        }

        var validations = new JsonObject { ["signatureValid"] = true };
        var failures = new List<string>();
        if (_requiredClaims is not null)
        {
            var missing = _requiredClaims.Where(c => jwt.Payload[c] is null).ToList();
            validations["requiredClaims"] = Result(missing.Count == 0, "missing", missing);
            if (missing.Count > 0) failures.Add($"Missing required claims: {string.Join(", ", missing)}");
        }
        if (_claimValues is not null)
        {
            var failed = _claimValues.Where(r => !r.Matches(jwt.Payload[r.Claim], out _)).Select(r => jwt.Payload[r.Claim] is null ? $"{r.Claim} (missing)" : r.Claim).ToList();
            validations["claimValues"] = Result(failed.Count == 0, "failed", failed);
            if (failed.Count > 0) failures.Add($"Invalid claim values: {string.Join(", ", failed)}");
        }
        if (_headerPayloadMatch is not null)
        {
            var mismatched = _headerPayloadMatch.Where(k => !JsonNode.DeepEquals(jwt.Header[k], jwt.Payload[k])).ToList();
            validations["headerPayloadMatch"] = Result(mismatched.Count == 0, "mismatched", mismatched);
            if (mismatched.Count > 0) failures.Add($"Header-payload mismatch: {string.Join(", ", mismatched)}");
        }
        var verdict = failures.Count == 0;
        return new CheckOutcome(verdict, new JsonObject
        {
            ["verdict"] = verdict,
            ["explanation"] = verdict ? "JWT token validation succeeded" : $"JWT validation failed: {string.Join("; ", failures)}",
            ["validations"] = validations,
        });
    }

    private async Task<JsonWebKey?> FindKeyAsync(JwtToken jwt, CancellationToken ct)
    {
        var kid = jwt.Kid;
        if (kid is null) return null;
        if (_inlineKeys is not null && _jwksUri is null) return _inlineKeys.Find(kid);
        var keys = _inlineKeys;
        var key = keys?.Find(kid);
        if (key is not null || _jwksUri is null) return key;
        keys = await _services.Jwks.GetAsync(_jwksUri, _cacheMaxAge, ct).ConfigureAwait(false);
        key = keys.Find(kid);
        if (key is not null) return key;
        // An unknown kid may mean the provider rotated its keys since the set was cached.
        keys = await _services.Jwks.RefreshAsync(_jwksUri, ct).ConfigureAwait(false);
        return keys.Find(kid);
    }

    /// <summary>jose's jwtVerify: algorithm allowed and matching the key, signature valid, exp/nbf/iat within tolerance.</summary>
    private string? VerifySignatureAndTimes(JwtToken jwt, JsonWebKey key)
    {
        if (JwsSignature.Check(jwt, key, _algorithms) is { } signatureError) return signatureError;

        var now = _services.Time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        now = Math.Floor(now);
        var payload = jwt.Payload;
        if (payload["exp"] is { } expNode)
        {
            if (!TryNumber(expNode, out var exp)) return "\"exp\" claim must be a number";
            if (exp <= now - _clockTolerance) return "\"exp\" claim timestamp check failed";
        }
        if (payload["nbf"] is { } nbfNode)
        {
            if (!TryNumber(nbfNode, out var nbf)) return "\"nbf\" claim must be a number";
            if (nbf > now + _clockTolerance) return "\"nbf\" claim timestamp check failed";
        }
        if (payload["iat"] is { } iatNode)
        {
            if (!TryNumber(iatNode, out var iat)) return "\"iat\" claim must be a number";
            var age = now - iat;
            if (age - _clockTolerance > _maxTokenAge) return "\"iat\" claim timestamp check failed (too far in the past)";
            if (age < -_clockTolerance) return "\"iat\" claim timestamp check failed (it should be in the past)";
        }
        return null;
    }

    private static CheckOutcome Fail(string explanation, JsonObject? validations = null)
    {
        var data = new JsonObject { ["verdict"] = false, ["explanation"] = explanation };
        if (validations is not null) data["validations"] = validations;
        return new CheckOutcome(false, data);
    }

    private static JsonObject Result(bool valid, string listName, List<string> items)
    {
        var result = new JsonObject { ["valid"] = valid };
        if (items.Count > 0) result[listName] = CheckData.Strings(items);
        return result;
    }

    private static bool TryNumber(JsonNode node, out double value)
    {
        value = 0;
        return node is JsonValue v && v.TryGetValue(out value);
    }

    private static string Stringify(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
        JsonValue v when v.TryGetValue<double>(out var d) => d.ToString(CultureInfo.InvariantCulture),
        null => "null",
        _ => node.ToJsonString(),
    };

    /// <summary>jose's duration strings: <c>30s</c>, <c>5 minutes</c>, <c>12h</c>, <c>1d</c>, <c>2w</c>, <c>1y</c>.</summary>
    internal static double? ParseDuration(string text)
    {
        var m = Duration().Match(text.Trim());
        if (!m.Success) return null;
        var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var unit = m.Groups[2].Value.ToLowerInvariant();
        var factor = unit[0] switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 604800,
            _ => 31557600,
        };
        return Math.Round(n * factor);
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?) ?(sec|secs|second|seconds|s|minute|minutes|min|mins|m|hour|hours|hr|hrs|h|day|days|d|week|weeks|w|year|years|yr|yrs|y)$", RegexOptions.IgnoreCase)]
    private static partial Regex Duration();

    [GeneratedRegex(@"^Bearer\s+", RegexOptions.IgnoreCase)]
    private static partial Regex BearerPrefix();

    /// <summary>One <c>claimValues</c> rule (Portkey 2.0.0 semantics).</summary>
    private sealed record ClaimRule(string Claim, List<string> Values, string MatchType, List<Regex>? Patterns)
    {
        public bool Matches(JsonNode? payloadValue, out bool missing)
        {
            missing = payloadValue is null;
            if (missing) return false;
            var actual = Normalize(payloadValue!);
            switch (MatchType)
            {
                case "exact":
                    return actual.Count == 1 && Values.Count == 1 && actual[0] == Values[0];
                case "contains":
                    return Values.Any(e => actual.Any(a => a.Contains(e, StringComparison.Ordinal)));
                case "containsAll":
                    return Values.All(e => actual.Any(a => a.Contains(e, StringComparison.Ordinal)));
                default:
                    try
                    {
                        return Patterns!.Any(r => actual.Any(r.IsMatch));
                    }
                    catch (RegexMatchTimeoutException)
                    {
                        return false;
                    }
            }
        }

        /// <summary>Arrays element-wise, the OAuth <c>scope</c> claim split on spaces, everything else as one string.</summary>
        private List<string> Normalize(JsonNode value)
        {
            if (value is JsonArray a) return [.. a.Select(Stringify)];
            if (value is JsonValue v && v.TryGetValue<string>(out var s))
            {
                return Claim.Equals("scope", StringComparison.OrdinalIgnoreCase)
                    ? [.. s.Split((char[])[' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)]
                    : [s];
            }
            return [Stringify(value)];
        }
    }
}
