using System.Diagnostics.CodeAnalysis;
using Switchyard.Core.Security;

namespace Switchyard.Gateway.Mcp.Registry;

/// <summary>
/// The SSRF rules for an upstream MCP URL (<c>url</c>, <c>oauth_client_credentials.token_url</c>) written in the servers file.
/// </summary>
/// <remarks>
/// The servers file is operator-written configuration, like <c>PROVIDER_BASE_URLS</c>: MCP servers usually run inside the cluster
/// (<c>http://mcp-github.tools.svc:8080/mcp</c>), so private, loopback and single-label hosts are accepted there. Everything else the
/// <c>custom_host</c> rules refuse still is: a scheme other than http/https, user credentials, control characters or whitespace,
/// non-canonical IPv4 spellings, a fragment, and cloud metadata endpoints (unless named in <c>TRUSTED_CUSTOM_HOSTS</c>).
/// URLs learnt at run time are not trusted: <see cref="McpUpstreamRequestHandler"/> keeps every request on the configured origin.
/// </remarks>
public static class McpUpstreamUrl
{
    /// <summary>Checks <paramref name="value"/>; on success <paramref name="uri"/> is the URL as written (path, trailing slash and query kept).</summary>
    public static bool TryValidate(string value, CustomHostValidator trusted, [NotNullWhen(true)] out Uri? uri, [NotNullWhen(false)] out string? error)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "the URL is empty";
            return false;
        }
        if (value.Contains('#'))
        {
            error = "the URL must not contain a fragment ('#')";
            return false;
        }
        var cut = value.IndexOf('?');
        var basePart = cut < 0 ? value : value[..cut];
        var query = cut < 0 ? "" : value[cut..];
        foreach (var c in query)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c))
            {
                error = "the URL's query string contains whitespace or control characters";
                return false;
            }
        }
        // First the syntax alone: a validator that trusts this very host skips only the address-range checks.
        if (!Uri.TryCreate(basePart.Trim(), UriKind.Absolute, out var rough) || rough.Host.Length == 0)
        {
            error = "the URL is not an absolute http:// or https:// URL";
            return false;
        }
        var hostEntry = rough.HostNameType == UriHostNameType.IPv6 ? "[" + rough.Host.Trim('[', ']') + "]" : rough.Host;
        CustomHostValidator syntaxOnly;
        try
        {
            syntaxOnly = new CustomHostValidator([hostEntry]);
        }
        catch (ArgumentException)
        {
            error = "the URL's host is not a valid host name or address";
            return false;
        }
        if (!syntaxOnly.TryValidate(basePart, out var normalized, out var syntaxError))
        {
            error = Reword(syntaxError);
            return false;
        }
        // Then the operator's own list: a cloud metadata endpoint is refused unless TRUSTED_CUSTOM_HOSTS names it.
        if (!trusted.TryValidate(basePart, out _, out var rangeError) && rangeError.Contains("metadata", StringComparison.Ordinal))
        {
            error = Reword(rangeError);
            return false;
        }
        if (!Uri.TryCreate(basePart + query, UriKind.Absolute, out var full) || !string.Equals(full.Host, normalized.Host, StringComparison.OrdinalIgnoreCase)
            || full.Port != normalized.Port || full.Scheme != normalized.Scheme)
        {
            error = "the URL is not valid";
            return false;
        }
        uri = full;
        error = null;
        return true;
    }

    /// <summary>Whether <paramref name="request"/> goes to the scheme, host and port of <paramref name="configured"/>.</summary>
    public static bool SameOrigin(Uri configured, Uri request) =>
        string.Equals(configured.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(configured.IdnHost, request.IdnHost, StringComparison.OrdinalIgnoreCase)
        && configured.Port == request.Port;

    private static string Reword(string message) =>
        message.Replace("Custom host", "the URL", StringComparison.Ordinal).Replace("; add it to TRUSTED_CUSTOM_HOSTS to allow it", "", StringComparison.Ordinal);
}
