using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Configs;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Security.ApiKeys;

namespace Switchyard.Gateway.Endpoints;

/// <summary>Why a request was refused, in Portkey's authN/authZ terms: 401 with code 03 or 01, 403 with code 033.</summary>
internal sealed record AuthRefusal(int Status, string Code, string Message)
{
    public static AuthRefusal Invalid(string message) => new(StatusCodes.Status401Unauthorized, "03", message);

    public static AuthRefusal Expired(string message) => new(StatusCodes.Status401Unauthorized, "01", message);

    public static AuthRefusal Forbidden(string message) => new(StatusCodes.Status403Forbidden, "033", message);
}

/// <summary>
/// Checks gateway API keys on <c>/v1/*</c> (<c>AUTH_MODE=keys</c>): finds the key the client sent, then what it may do. Messages
/// never contain the presented key.
/// </summary>
internal sealed class ApiKeyGate(ApiKeyStore store, TimeProvider time)
{
    public ApiKeyStore Store => store;

    /// <summary>
    /// The caller's key, from <c>x-portkey-api-key</c> or from <c>Authorization: Bearer</c> when that carries a gateway key (config
    /// mode, or a value that is a known key). A gateway key taken from <c>Authorization</c> is removed so it never goes upstream.
    /// </summary>
    public ApiKey? Authenticate(HttpRequest request, out AuthRefusal? refusal)
    {
        refusal = null;
        var headers = request.Headers;
        string? presented = null;
        var fromBearer = false;
        if (headers.TryGetValue("x-portkey-api-key", out var portkeyKey) && portkeyKey.Count > 0)
        {
            if (portkeyKey.Count > 1)
            {
                refusal = AuthRefusal.Invalid("Send one x-portkey-api-key header");
                return null;
            }
            presented = portkeyKey.ToString().Trim();
        }
        else if (headers.TryGetValue("Authorization", out var authorization) && authorization.Count == 1
                 && authorization.ToString() is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = value[7..].Trim();
            // In header mode Authorization carries the provider's key; it is the gateway's only in config mode or when it is a known key.
            if (headers.ContainsKey("x-portkey-config") || store.Find(token) is not null)
            {
                presented = token;
                fromBearer = true;
            }
        }
        if (string.IsNullOrEmpty(presented))
        {
            refusal = AuthRefusal.Invalid("API key is required: send a gateway API key in x-portkey-api-key");
            return null;
        }
        var key = store.Find(presented);
        if (key is null)
        {
            refusal = AuthRefusal.Invalid("Invalid API key");
            return null;
        }
        if (key.Disabled)
        {
            refusal = AuthRefusal.Invalid("Invalid API key: this key is disabled");
            return null;
        }
        if (key.ExpiresAt is { } expires && time.GetUtcNow() >= expires)
        {
            refusal = AuthRefusal.Expired("API key has expired");
            return null;
        }
        if (fromBearer)
        {
            headers.Remove("Authorization");
        }
        return key;
    }

    /// <summary>Whether the key may make this request: scope, named config, provider and model allow lists.</summary>
    public static AuthRefusal? Authorize(ApiKey key, string scope, IHeaderDictionary headers, string? model, SwitchyardEngine engine)
    {
        if (!key.Scopes.Contains(scope))
        {
            return AuthRefusal.Forbidden($"API key '{key.Name}' does not have the {scope} scope");
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
                return AuthRefusal.Forbidden($"API key '{key.Name}' may use only named configs; inline configs are not allowed");
            }
            if (!configs.Contains(config))
            {
                return AuthRefusal.Forbidden($"API key '{key.Name}' may not use config '{Printable(config)}'");
            }
        }
        if (key.Providers is { } providers)
        {
            if (inline)
            {
                return AuthRefusal.Forbidden($"API key '{key.Name}' has a provider allow list; inline configs are not allowed");
            }
            var headerProvider = HeaderProvider(headers, model, engine);
            // A named config may send to every provider in its tree: all of them must be allowed.
            var reached = named is null ? (headerProvider is { Length: > 0 } ? [headerProvider] : []) : Providers(named.Root, headerProvider, engine);
            foreach (var provider in reached)
            {
                if (!providers.Contains(provider))
                {
                    return AuthRefusal.Forbidden($"API key '{key.Name}' may not use provider '{Printable(provider)}'");
                }
            }
        }
        // "@slug/model" names a virtual key; the model allowed or not is the one the provider sees.
        model = Core.Security.VirtualKeys.VirtualKeyReferences.Effective(model);
        if (key.Models is { } models && model is not null && !models.Contains(model))
        {
            return AuthRefusal.Forbidden($"API key '{key.Name}' may not use model '{Printable(model)}'");
        }
        return null;
    }

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
