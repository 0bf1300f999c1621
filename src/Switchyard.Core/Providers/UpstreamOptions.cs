using static Switchyard.Core.EnvironmentValues;

namespace Switchyard.Core.Providers;

/// <summary>How the gateway reaches providers: timeouts, base-URL overrides, extra trusted CAs and custom-host exemptions, bound from the variables in docs/configuration.md.</summary>
public sealed record UpstreamOptions
{
    /// <summary>Timeout for an attempt when no request_timeout applies (<c>REQUEST_TIMEOUT</c>, ms; default 5 minutes).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>TCP/TLS connect timeout to upstreams (<c>UPSTREAM_CONNECT_TIMEOUT_MS</c>, default 10000).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Base-URL overrides for catalog providers (<c>PROVIDER_BASE_URLS</c>: <c>openai=https://eu.api.openai.com/v1,groq=…</c>), e.g. a regional endpoint or an internal egress proxy.</summary>
    public IReadOnlyDictionary<string, string> BaseUrls { get; init; } = new Dictionary<string, string>();

    /// <summary>PEM file of extra CAs trusted for upstream and token-endpoint TLS (<c>UPSTREAM_CA_FILE</c>), e.g. an egress proxy's; system roots stay trusted.</summary>
    public string? CaFile { get; init; }

    /// <summary>Hosts exempt from custom_host SSRF checks (<c>TRUSTED_CUSTOM_HOSTS</c>); null keeps the defaults.</summary>
    public string? TrustedCustomHosts { get; init; }

    public static UpstreamOptions FromEnvironment(Func<string, string?> get)
    {
        var d = new UpstreamOptions();
        return d with
        {
            RequestTimeout = Ms(get, "REQUEST_TIMEOUT", d.RequestTimeout),
            ConnectTimeout = Ms(get, "UPSTREAM_CONNECT_TIMEOUT_MS", d.ConnectTimeout),
            BaseUrls = ParseBaseUrls(get("PROVIDER_BASE_URLS")),
            CaFile = NonEmpty(get("UPSTREAM_CA_FILE")),
            TrustedCustomHosts = NonEmpty(get("TRUSTED_CUSTOM_HOSTS")),
        };
    }

    private static Dictionary<string, string> ParseBaseUrls(string? raw)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in (raw ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0 || !Uri.TryCreate(pair[(eq + 1)..].Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new FormatException($"PROVIDER_BASE_URLS entry '{pair}' is not valid: expected provider=https://host/path.");
            }
            map[pair[..eq].Trim()] = uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        }
        return map;
    }
}
