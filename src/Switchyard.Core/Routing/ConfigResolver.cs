using System.Collections.Concurrent;
using System.Text.Json;
using Switchyard.Core.Configs;
using Switchyard.Core.Errors;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;
using Switchyard.Core.Security;

namespace Switchyard.Core.Routing;

/// <summary>Turns a request's <c>x-portkey-*</c> headers into a <see cref="RoutePlan"/>: header mode, inline config, or a named config.</summary>
public sealed class ConfigResolver
{
    private const int InlineCacheLimit = 512;

    private readonly ConfigCompiler _compiler;
    private readonly NamedConfigStore? _named;
    private readonly ProviderRegistry _providers;
    private readonly CustomHostValidator _hosts;
    // Clients usually send the same inline config on every call: compile it once.
    private readonly ConcurrentDictionary<string, RoutingConfig> _inline = new(StringComparer.Ordinal);
    private readonly RoutingConfig _headerOnly;
    // Clients send the same x-portkey-custom-host on every call: validate each distinct value once.
    private readonly ConcurrentDictionary<string, (string? BaseUrl, string? Error)> _hostVerdicts = new(StringComparer.Ordinal);

    public ConfigResolver(ConfigCompiler compiler, NamedConfigStore? named, ProviderRegistry providers, CustomHostValidator hosts)
    {
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

    public RoutePlan? Resolve(IRequestHeaders headers, out GatewayError? error)
    {
        var defaults = ReadHeaderDefaults(headers, out error);
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

    private HeaderDefaults? ReadHeaderDefaults(IRequestHeaders headers, out GatewayError? error)
    {
        error = null;
        var provider = headers.Get("x-portkey-provider")?.Trim();
        if (provider is { Length: 0 })
        {
            provider = null;
        }
        if (provider is not null && !_providers.TryGetProvider(provider, out _))
        {
            error = GatewayError.Invalid($"Invalid provider passed: '{provider}'");
            return null;
        }
        string? customHost = null;
        if (headers.Get("x-portkey-custom-host") is { Length: > 0 } rawHost)
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
        var apiKey = HeaderDefaults.BearerToken(headers) ?? NonEmpty(headers.Get("x-api-key"));
        var fields = HeaderDefaults.ReadProviderFields(headers);
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
            ApiKey = apiKey,
            CustomHost = customHost,
            ForwardHeaders = forward,
            RequestTimeoutMs = timeout,
            ProviderFields = fields,
        };
    }

    private static bool IsHeaderSafe(string value) => value.AsSpan().IndexOfAnyExceptInRange('\u0020', '\u007e') < 0;

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
