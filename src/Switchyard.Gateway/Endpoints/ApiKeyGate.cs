using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Configs;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Core.Security.Jwt;

namespace Switchyard.Gateway.Endpoints;

/// <summary>Why a request was refused, in Portkey's authN/authZ terms: 401 with code 03 or 01, 403 with code 033.</summary>
internal sealed record AuthRefusal(int Status, string Code, string Message)
{
    /// <summary>Sent as <c>Retry-After</c> when the refusal is temporary.</summary>
    public int? RetryAfterSeconds { get; init; }

    public static AuthRefusal Invalid(string message) => new(StatusCodes.Status401Unauthorized, "03", message);

    public static AuthRefusal Expired(string message) => new(StatusCodes.Status401Unauthorized, "01", message);

    public static AuthRefusal Forbidden(string message) => new(StatusCodes.Status403Forbidden, "033", message);

    /// <summary>The credential could not be checked (the IdP's keys are unavailable): 503, which SDKs retry; not the caller's fault.</summary>
    public static AuthRefusal Unavailable(string message) => new(StatusCodes.Status503ServiceUnavailable, "jwks_unavailable", message) { RetryAfterSeconds = 5 };
}

/// <summary>Who the caller is (<see cref="Key"/>) or why not (<see cref="Refusal"/>).</summary>
internal readonly record struct AuthResult(ApiKey? Key, AuthRefusal? Refusal);

/// <summary>
/// Checks the caller on <c>/v1/*</c>: gateway API keys (<c>AUTH_MODE=keys</c>), JWTs from the customer's identity provider
/// (<c>AUTH_MODE=jwt</c>), or either. Both yield an <see cref="ApiKey"/>, then one authorization decides what it may do.
/// Messages never contain the presented credential.
/// </summary>
internal sealed class ApiKeyGate(ApiKeyStore? store, JwtAuthenticator? jwt, TimeProvider time)
{
    public ApiKeyGate(ApiKeyStore store, TimeProvider time) : this(store, null, time)
    {
    }

    public ApiKeyStore? Store => store;

    public JwtAuthenticator? Jwt => jwt;

    /// <summary>
    /// The caller's identity. One credential per request, looked for in this order: <c>x-portkey-api-key</c> (a JWT when it looks
    /// like one and jwt mode is on, else a gateway key); a JWT in <c>Authorization: Bearer</c> (or <c>JWT_HEADER</c>); a gateway key
    /// in <c>Authorization: Bearer</c> in config mode or when it is a known key. A credential taken from <c>Authorization</c> (or
    /// <c>JWT_HEADER</c>) is removed so it never goes upstream; any other <c>Authorization</c> stays for the provider.
    /// </summary>
    public ValueTask<AuthResult> AuthenticateAsync(HttpRequest request, CancellationToken ct)
    {
        var headers = request.Headers;
        string? presented = null;
        var fromBearer = false;
        if (headers.TryGetValue("x-portkey-api-key", out var portkeyKey) && portkeyKey.Count > 0)
        {
            if (portkeyKey.Count > 1)
            {
                return Refuse(AuthRefusal.Invalid("Send one x-portkey-api-key header"));
            }
            presented = portkeyKey.ToString().Trim();
            if (jwt is not null && JwtAuthenticator.LooksLikeJwt(presented))
            {
                return ValidateJwtAsync(presented, headers, null, ct);
            }
        }
        else
        {
            if (jwt is not null)
            {
                var header = jwt.Options.Header ?? "Authorization";
                if (headers.TryGetValue(header, out var carried) && carried.Count == 1 && Bearer(carried.ToString(), jwt.Options.Header is null) is { } token
                    && JwtAuthenticator.LooksLikeJwt(token))
                {
                    return ValidateJwtAsync(token, headers, header, ct);
                }
            }
            if (store is not null && headers.TryGetValue("Authorization", out var authorization) && authorization.Count == 1
                && Bearer(authorization.ToString(), required: true) is { } bearer)
            {
                // In header mode Authorization carries the provider's key; it is the gateway's only in config mode or when it is a known key.
                if (headers.ContainsKey("x-portkey-config") || store.Find(bearer) is not null)
                {
                    presented = bearer;
                    fromBearer = true;
                }
            }
        }
        if (string.IsNullOrEmpty(presented))
        {
            return Refuse(AuthRefusal.Invalid(store is null
                ? "A JWT is required: send it in Authorization: Bearer or x-portkey-api-key"
                : jwt is null ? "API key is required: send a gateway API key in x-portkey-api-key"
                : "API key or JWT is required: send a gateway API key or a JWT in x-portkey-api-key"));
        }
        if (store is null)
        {
            return Refuse(AuthRefusal.Invalid("Invalid JWT: not a signed JWT"));
        }
        var key = store.Find(presented);
        if (key is null)
        {
            return Refuse(AuthRefusal.Invalid("Invalid API key"));
        }
        if (key.Disabled)
        {
            return Refuse(AuthRefusal.Invalid("Invalid API key: this key is disabled"));
        }
        if (key.ExpiresAt is { } expires && time.GetUtcNow() >= expires)
        {
            return Refuse(AuthRefusal.Expired("API key has expired"));
        }
        if (fromBearer)
        {
            headers.Remove("Authorization");
        }
        return new(new AuthResult(key, null));
    }

    private static ValueTask<AuthResult> Refuse(AuthRefusal refusal) => new(new AuthResult(null, refusal));

    /// <summary>The token of <c>Bearer &lt;token&gt;</c>; without <paramref name="required"/> a bare token is taken as is.</summary>
    private static string? Bearer(string value, bool required)
    {
        if (value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return value[7..].Trim();
        }
        return required ? null : value.Trim();
    }

    private async ValueTask<AuthResult> ValidateJwtAsync(string token, IHeaderDictionary headers, string? carriedIn, CancellationToken ct)
    {
        var verdict = await jwt!.ValidateAsync(token, ct);
        if (verdict.Identity is not { } identity)
        {
            return new AuthResult(null, verdict.Failure switch
            {
                JwtFailure.Expired => AuthRefusal.Expired(verdict.Message!),
                JwtFailure.KeysUnavailable => AuthRefusal.Unavailable(verdict.Message!),
                _ => AuthRefusal.Invalid(verdict.Message!),
            });
        }
        if (carriedIn is not null)
        {
            headers.Remove(carriedIn);
        }
        return new AuthResult(identity, null);
    }

    /// <summary>Whether the key may make this request: scope, named config, provider and model allow lists.</summary>
    public static AuthRefusal? Authorize(ApiKey key, string scope, IHeaderDictionary headers, string? model, SwitchyardEngine engine)
    {
        if (!key.Scopes.Contains(scope))
        {
            return AuthRefusal.Forbidden($"{Who(key)} does not have the {scope} scope");
        }
        var config = headers.TryGetValue("x-portkey-config", out var c) ? c.ToString().Trim() : "";
        var inline = config.StartsWith('{');
        RoutingConfig? named = null;
        if (config.Length > 0 && !inline)
        {
            engine.NamedConfigs.TryGet(config, out named);
        }
        if (key.Configs is { } configs && config.Length > 0)
        {
            if (inline)
            {
                return AuthRefusal.Forbidden($"{Who(key)} may use only named configs; inline configs are not allowed");
            }
            if (!configs.Contains(config))
            {
                return AuthRefusal.Forbidden($"{Who(key)} may not use config '{Printable(config)}'");
            }
        }
        if (key.Providers is { } providers)
        {
            if (inline)
            {
                return AuthRefusal.Forbidden($"{Who(key)} has a provider allow list; inline configs are not allowed");
            }
            var headerProvider = HeaderProvider(headers, model, engine);
            // A named config may send to every provider in its tree: all of them must be allowed.
            var reached = named is null ? (headerProvider is { Length: > 0 } ? [headerProvider] : []) : Providers(named.Root, headerProvider, engine);
            foreach (var provider in reached)
            {
                if (!providers.Contains(provider))
                {
                    return AuthRefusal.Forbidden($"{Who(key)} may not use provider '{Printable(provider)}'");
                }
            }
        }
        // "@slug/model" names a virtual key; the model allowed or not is the one the provider sees.
        model = Core.Security.VirtualKeys.VirtualKeyReferences.Effective(model);
        if (key.Models is { } models && model is not null && !models.Contains(model))
        {
            return AuthRefusal.Forbidden($"{Who(key)} may not use model '{Printable(model)}'");
        }
        return null;
    }

    /// <summary>How messages name the caller: a JWT identity has no key behind it (its hash is empty, a file key's never is).</summary>
    private static string Who(ApiKey key) => key.Hash.Length == 0 ? $"JWT for '{key.Name}'" : $"API key '{key.Name}'";

    /// <summary>The provider the headers select: <c>x-portkey-provider</c>, or the provider of the virtual key the request names.</summary>
    private static string? HeaderProvider(IHeaderDictionary headers, string? model, SwitchyardEngine engine)
    {
        var provider = headers.TryGetValue("x-portkey-provider", out var p) ? p.ToString().Trim() : null;
        string? slug = null;
        if (provider is ['@', ..])
        {
            slug = provider[1..];
        }
        else if (headers.TryGetValue("x-portkey-virtual-key", out var v) && v.ToString().Trim() is { Length: > 0 } named)
        {
            slug = named;
        }
        else if (Core.Security.VirtualKeys.VirtualKeyReferences.TrySplitModel(model, out var modelSlug, out _))
        {
            slug = modelSlug;
        }
        if (slug is null)
        {
            return provider;
        }
        // An unknown slug is refused by the engine with its own 400; here it allows nothing new.
        return engine.VirtualKeys is { } store && store.TryGet(slug, out var vk) ? vk.Provider : provider is ['@', ..] ? null : provider;
    }

    private static List<string> Providers(ConfigNode node, string? headerProvider, SwitchyardEngine engine)
    {
        var found = new List<string>();
        void Walk(ConfigNode n)
        {
            if (n.IsLeaf)
            {
                var leafProvider = n.VirtualKey is { } slug && engine.VirtualKeys is { } store && store.TryGet(slug, out var vk) ? vk.Provider : n.Provider;
                if ((leafProvider ?? (n.VirtualKey is null ? headerProvider : null)) is { Length: > 0 } provider)
                {
                    found.Add(provider);
                }
                return;
            }
            foreach (var t in n.Targets)
            {
                Walk(t);
            }
        }
        Walk(node);
        return found;
    }

    /// <summary>Merges the key's default metadata into <c>x-portkey-metadata</c>; the request's own entries win.</summary>
    public static void MergeMetadata(ApiKey key, IHeaderDictionary headers)
    {
        if (key.Metadata is not { Count: > 0 } defaults)
        {
            return;
        }
        var merged = new JsonObject();
        foreach (var (name, value) in defaults)
        {
            merged[name] = value?.DeepClone();
        }
        if (headers.TryGetValue("x-portkey-metadata", out var sent) && sent.Count > 0)
        {
            try
            {
                if (JsonNode.Parse(sent.ToString()) is JsonObject own)
                {
                    foreach (var (name, value) in own)
                    {
                        merged[name] = value?.DeepClone();
                    }
                }
                else
                {
                    return; // Not an object: leave it for the engine to judge as it does today.
                }
            }
            catch (JsonException)
            {
                return;
            }
        }
        headers["x-portkey-metadata"] = merged.ToJsonString();
    }

    private static string Printable(string value)
    {
        var s = value.Length > 100 ? value[..100] + "…" : value;
        var b = new StringBuilder(s.Length);
        foreach (var ch in s)
        {
            b.Append(char.IsControl(ch) ? '?' : ch);
        }
        return b.ToString();
    }

    /// <summary>Portkey's authN/authZ body: <c>{"status":"failure","message":"Portkey Error: …. Error Code: nn","error":{…}}</c>.</summary>
    public static Task WriteAsync(HttpContext context, AuthRefusal refusal)
    {
        var response = context.Response;
        response.StatusCode = refusal.Status;
        response.ContentType = "application/json";
        response.Headers[PortkeyHeaders.GatewayException] = "true";
        if (refusal.RetryAfterSeconds is { } retry)
        {
            response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", "failure");
            json.WriteString("message", $"Portkey Error: {refusal.Message}. Error Code: {refusal.Code}");
            json.WriteStartObject("error");
            json.WriteString("message", refusal.Message);
            json.WriteString("code", refusal.Code);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        var body = buffer.ToArray();
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
