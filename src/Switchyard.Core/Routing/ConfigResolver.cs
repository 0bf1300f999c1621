using System.Collections.Concurrent;
using System.Text.Json;
using Switchyard.Core.Configs;
using Switchyard.Core.Errors;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;
using Switchyard.Core.Security;
using Switchyard.Core.Security.VirtualKeys;

namespace Switchyard.Core.Routing;

/// <summary>Turns a request's <c>x-portkey-*</c> headers into a <see cref="RoutePlan"/>: header mode, inline config, or a named config.</summary>
public sealed class ConfigResolver
{
    private const int InlineCacheLimit = 512;

    private readonly ConfigCompiler _compiler;
    private readonly NamedConfigStore? _named;
    private readonly ProviderRegistry _providers;
    private readonly CustomHostValidator _hosts;
    private readonly VirtualKeyStore? _virtualKeys;
    // Clients usually send the same inline config on every call: compile it once.
    private readonly ConcurrentDictionary<string, RoutingConfig> _inline = new(StringComparer.Ordinal);
    private readonly RoutingConfig _headerOnly;
    // Clients send the same x-portkey-custom-host on every call: validate each distinct value once.
    private readonly ConcurrentDictionary<string, (string? BaseUrl, string? Error)> _hostVerdicts = new(StringComparer.Ordinal);

    /// <param name="virtualKeys">Where <c>@slug</c>, <c>x-portkey-virtual-key</c> and <c>virtual_key</c> are looked up; null when none are configured.</param>
    public ConfigResolver(ConfigCompiler compiler, NamedConfigStore? named, ProviderRegistry providers, CustomHostValidator hosts, VirtualKeyStore? virtualKeys = null)
    {
        _virtualKeys = virtualKeys;
        _compiler = compiler;
        _named = named;
        _providers = providers;
        _hosts = hosts;
        _headerOnly = new RoutingConfig
        {
            Root = new ConfigNode { OptionPath = "config", Settings = TargetSettings.Empty },
            Source = "headers",
        };
    }

    public RoutePlan? Resolve(IRequestHeaders headers, out GatewayError? error) => Resolve(headers, null, out error, out _);

    /// <summary>
    /// Resolves the plan for <see cref="RequestContext.Request"/>, virtual keys included: sets <see cref="RequestContext.VirtualKey"/>
    /// for a header-level virtual key, checks every slug a config names (unknown: 400) against the caller's key (not allowed: 403),
    /// and for <c>"model": "@slug/model"</c> replaces the request with one whose model is the part after the slash.
    /// </summary>
    public RoutePlan? Resolve(RequestContext context, out GatewayError? error)
    {
        var request = context.Request!;
        var plan = Resolve(request.Headers, request, out error, out var model);
        if (plan is null)
        {
            return null;
        }
        if (plan.Headers.VirtualKey is { } vk)
        {
            if (Refuse(context, vk.Slug) is { } refused)
            {
                error = refused;
                return null;
            }
            context.VirtualKey = vk.Slug;
        }
        if (model is not null)
        {
            context.Request = new GatewayRequest
            {
                Method = request.Method,
                Endpoint = request.Endpoint,
                Path = request.Path,
                UpstreamPath = request.UpstreamPath,
                QueryString = request.QueryString,
                Headers = request.Headers,
                Body = VirtualKeyReferences.ReplaceModel(request.Body, model),
                ContentType = request.ContentType,
            };
        }
        foreach (var slug in plan.Config.VirtualKeys)
        {
            if (_virtualKeys is null || !_virtualKeys.TryGet(slug, out _))
            {
                var which = plan.Mode == "named" ? $"Config '{Printable(request.Headers.Get("x-portkey-config")?.Trim() ?? "")}'" : "The config";
                error = GatewayError.Invalid($"{which} uses virtual key '{Printable(slug)}', which is not loaded"
                    + (_virtualKeys is null ? " (no virtual keys are configured: set VIRTUAL_KEYS_PATH)" : " from VIRTUAL_KEYS_PATH"));
                return null;
            }
            if (Refuse(context, slug) is { } refused)
            {
                error = refused;
                return null;
            }
        }
        return plan;
    }

    /// <summary>The caller's gateway key may name the virtual keys it may use; 403 with code 033 for any other.</summary>
    private static GatewayError? Refuse(RequestContext context, string slug) =>
        context.ApiKey is { VirtualKeys: { } allowed } key && !allowed.Contains(slug)
            ? GatewayError.Forbidden($"API key '{key.Name}' may not use virtual key '{Printable(slug)}'")
            : null;

    private RoutePlan? Resolve(IRequestHeaders headers, GatewayRequest? request, out GatewayError? error, out string? model)
    {
        var defaults = ReadHeaderDefaults(headers, request, out error, out model);
        if (error is not null)
        {
            return null;
        }
        var configHeader = headers.Get("x-portkey-config");
        if (string.IsNullOrWhiteSpace(configHeader))
        {
            if (defaults!.Provider is null)
            {
                error = GatewayError.Invalid("Either x-portkey-config or x-portkey-provider header is required");
                return null;
            }
            return new RoutePlan { Config = _headerOnly, Headers = defaults, Mode = "headers" };
        }

        configHeader = configHeader.Trim();
        RoutingConfig? config;
        string mode;
        if (configHeader.StartsWith('{'))
        {
            config = CompileInline(configHeader, out error);
            mode = "inline";
        }
        else
        {
            config = FindNamed(configHeader, out error);
            mode = "named";
        }
        if (config is null)
        {
            return null;
        }
        if (config.TakesProviderFromHeaders && defaults!.Provider is null)
        {
            error = GatewayError.Invalid("Either x-portkey-provider needs to be passed. Or the x-portkey-config header should have a valid config with provider details in it.");
            return null;
        }
        return new RoutePlan { Config = config, Headers = defaults!, Mode = mode };
    }

    private RoutingConfig? CompileInline(string text, out GatewayError? error)
    {
        error = null;
        if (_inline.TryGetValue(text, out var cached))
        {
            return cached;
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            error = GatewayError.Invalid("Invalid config passed. You need to pass a valid json");
            return null;
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("options", out _))
            {
                error = GatewayError.Invalid("This version of config is not supported in this route. Please migrate to the latest version");
                return null;
            }
            var errors = new List<ConfigError>();
            var config = _compiler.Compile(doc.RootElement, "inline", errors);
            if (config is null)
            {
                error = new GatewayError(ErrorCategory.InvalidConfig, "Invalid config passed") { Errors = errors.Select(e => e.ToString()).ToList() };
                return null;
            }
            if (_inline.Count >= InlineCacheLimit)
            {
                _inline.Clear();
            }
            _inline[text] = config;
            return config;
        }
    }

    private RoutingConfig? FindNamed(string name, out GatewayError? error)
    {
        error = null;
        if (_named is not null && _named.TryGet(name, out var config))
        {
            return config;
        }
        var known = _named is null ? "" : string.Join(", ", _named.Current.Configs.Keys.Order(StringComparer.Ordinal));
        error = new GatewayError(ErrorCategory.ConfigNotFound,
            $"Config '{name}' was not found in the config directory" + (known.Length > 0 ? $" (available: {known})" : " (no named configs are loaded)")
            + ". Pass inline JSON, or the name of a .json/.yaml file in CONFIG_DIR.");
        return null;
    }

    private (string? BaseUrl, string? Error) ValidateHost(string raw)
    {
        if (_hostVerdicts.TryGetValue(raw, out var cached))
        {
            return cached;
        }
        var verdict = _hosts.TryValidate(raw, out var uri, out var hostError)
            ? (uri!.GetLeftPart(UriPartial.Path).TrimEnd('/'), (string?)null)
            : ((string?)null, hostError ?? "not an allowed custom host");
        if (_hostVerdicts.Count >= InlineCacheLimit)
        {
            _hostVerdicts.Clear();
        }
        _hostVerdicts[raw] = verdict;
        return verdict;
    }

    /// <summary>
    /// The virtual key a request names in its headers or model, in Portkey's order: <c>x-portkey-provider: @slug</c>, then
    /// <c>x-portkey-virtual-key</c>, then <c>"model": "@slug/model"</c>. A request naming none pays one header lookup and a look at the model's first character.
    /// </summary>
    private VirtualKey? FindVirtualKey(IRequestHeaders headers, GatewayRequest? request, ref string? provider, out string? model, out GatewayError? error)
    {
        error = null;
        model = null;
        string? slug = null;
        string? form = null;
        if (provider is { Length: > 0 } && provider[0] == '@')
        {
            slug = provider[1..].Trim();
            provider = null;
            form = "x-portkey-provider";
        }
        else if (headers.Get("x-portkey-virtual-key") is { } header && !string.IsNullOrWhiteSpace(header))
        {
            slug = header.Trim();
            form = "x-portkey-virtual-key";
        }
        if (request is not null && request.IsJson && request.Endpoint.HasJsonBody()
            && request.BodyFacts.Model is ['@', ..] sent && VirtualKeyReferences.TrySplitModel(sent, out var modelSlug, out var rest))
        {
            if (slug is not null && slug != modelSlug)
            {
                error = GatewayError.Invalid($"The model names virtual key '{Printable(modelSlug)}' but {form} names '{Printable(slug)}'; name one");
                return null;
            }
            slug = modelSlug;
            model = rest;
        }
        if (slug is null)
        {
            return null;
        }
        if (slug.Length == 0)
        {
            error = GatewayError.Invalid("The virtual key's slug is empty");
            return null;
        }
        if (_virtualKeys is null || !_virtualKeys.TryGet(slug, out var vk))
        {
            // The loaded slugs are not listed: the names of the operator's credentials are not the caller's business.
            error = GatewayError.Invalid($"Virtual key '{Printable(slug)}' was not found"
                + (_virtualKeys is null ? ": no virtual keys are configured (set VIRTUAL_KEYS_PATH)" : " in VIRTUAL_KEYS_PATH"));
            return null;
        }
        if (provider is not null && !string.Equals(provider, vk.Provider, StringComparison.OrdinalIgnoreCase))
        {
            error = GatewayError.Invalid($"x-portkey-provider '{Printable(provider)}' does not match virtual key '{vk.Slug}', which is for provider '{vk.Provider}'");
            return null;
        }
        if (headers.Get("x-portkey-custom-host") is { Length: > 0 })
        {
            error = GatewayError.Invalid("x-portkey-custom-host cannot be combined with a virtual key: the virtual key's credential goes only to the host set in its file");
            return null;
        }
        provider = vk.Provider;
        return vk;
    }

    private static string Printable(string value)
    {
        var s = value.Length > 100 ? value[..100] + "…" : value;
        return string.Concat(s.Select(c => char.IsControl(c) ? '?' : c));
    }

    private HeaderDefaults? ReadHeaderDefaults(IRequestHeaders headers, GatewayRequest? request, out GatewayError? error, out string? model)
    {
        error = null;
        var provider = headers.Get("x-portkey-provider")?.Trim();
        if (provider is { Length: 0 })
        {
            provider = null;
        }
        var virtualKey = FindVirtualKey(headers, request, ref provider, out model, out error);
        if (error is not null)
        {
            return null;
        }
        if (provider is not null && !_providers.TryGetProvider(provider, out _))
        {
            error = GatewayError.Invalid($"Invalid provider passed: '{provider}'");
            return null;
        }
        string? customHost = null;
        if (virtualKey is null && headers.Get("x-portkey-custom-host") is { Length: > 0 } rawHost)
        {
            var verdict = ValidateHost(rawHost);
            if (verdict.Error is not null)
            {
                error = GatewayError.Invalid($"Invalid custom host: {verdict.Error}");
                return null;
            }
            customHost = verdict.BaseUrl;
        }
        List<string>? forward = null;
        if (headers.Get("x-portkey-forward-headers") is { Length: > 0 } rawForward)
        {
            forward = rawForward.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
            if (forward.Contains("x-portkey-forward-headers", StringComparer.OrdinalIgnoreCase))
            {
                error = GatewayError.Invalid("x-portkey-forward-headers must not list itself");
                return null;
            }
        }
        if (!HeaderDefaults.TryParseTimeout(headers.Get("x-portkey-request-timeout"), out var timeout))
        {
            error = GatewayError.Invalid("x-portkey-request-timeout must be a positive whole number of milliseconds");
            return null;
        }
        // Anthropic clients (Claude Code, the Anthropic SDKs) send their key as x-api-key.
        var apiKey = virtualKey is not null ? null : HeaderDefaults.BearerToken(headers) ?? NonEmpty(headers.Get("x-api-key"));
        var fields = HeaderDefaults.ReadProviderFields(headers);
        if (virtualKey is not null && fields.Count > 0)
        {
            // The client may tune behaviour (beta flags, API version), never the account or host the operator's credential reaches.
            fields = fields.Where(f => ConfigCompiler.VirtualKeySafeFields.Contains(f.Key)).ToDictionary(StringComparer.Ordinal);
        }
        // These travel on to the provider as headers, and an HTTP header cannot carry them: say so now, not as a 502 later.
        if (apiKey is not null && !IsHeaderSafe(apiKey))
        {
            error = GatewayError.Invalid("The API key in Authorization or x-api-key must be printable ASCII");
            return null;
        }
        foreach (var (field, value) in fields)
        {
            if (!IsHeaderSafe(value))
            {
                error = GatewayError.Invalid($"x-portkey-{field.Replace('_', '-')} must be printable ASCII");
                return null;
            }
        }
        return new HeaderDefaults
        {
            Provider = provider,
            VirtualKey = virtualKey,
            ApiKey = virtualKey is not null ? virtualKey.ApiKey : apiKey,
            CustomHost = customHost,
            ForwardHeaders = forward,
            RequestTimeoutMs = timeout,
            ProviderFields = fields,
        };
    }

    private static bool IsHeaderSafe(string value) => value.AsSpan().IndexOfAnyExceptInRange('\u0020', '\u007e') < 0;

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
