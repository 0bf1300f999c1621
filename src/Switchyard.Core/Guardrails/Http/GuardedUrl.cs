using System.Diagnostics.CodeAnalysis;
using Switchyard.Core.Security;

namespace Switchyard.Core.Guardrails.Http;

/// <summary>Puts an outbound URL through the custom-host SSRF rules while keeping its query string.</summary>
/// <remarks>
/// <see cref="CustomHostValidator"/> judges base URLs and refuses a query or fragment; webhook and image URLs
/// legitimately carry one, so only the part before it is validated and the query is appended back afterwards.
/// </remarks>
internal static class GuardedUrl
{
    public static bool TryCreate(CustomHostValidator hosts, string? url, [NotNullWhen(true)] out Uri? uri, [NotNullWhen(false)] out string? error)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(url))
        {
            error = "the URL is empty";
            return false;
        }
        var cut = url.IndexOfAny(['?', '#']);
        var basePart = cut < 0 ? url : url[..cut];
        var query = cut < 0 ? "" : url[cut..];
        var hashAt = query.IndexOf('#');
        if (hashAt >= 0) query = query[..hashAt];
        if (!hosts.TryValidate(basePart, out var baseUri, out var hostError))
        {
            error = hostError.Replace("Custom host", "URL", StringComparison.Ordinal);
            return false;
        }
        foreach (var c in query)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c))
            {
                error = "the URL's query string contains whitespace or control characters";
                return false;
            }
        }
        // The validator trims trailing slashes off the path; a webhook path may need its slash, so keep the original path.
        var rebuilt = basePart + query;
        if (!Uri.TryCreate(rebuilt, UriKind.Absolute, out var full) || !string.Equals(full.Host, baseUri.Host, StringComparison.OrdinalIgnoreCase)
            || full.Port != baseUri.Port || full.Scheme != baseUri.Scheme)
        {
            error = "the URL is not valid";
            return false;
        }
        uri = full;
        error = null;
        return true;
    }
}
