using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Switchyard.Core.Security;

/// <summary>Guards <c>custom_host</c> base-URL overrides against server-side request forgery (Portkey's rules, made stricter).</summary>
/// <remarks>
/// Validation is purely syntactic, as in Portkey: no DNS lookup happens here. Resolving the name would add latency to
/// every request and still prove nothing, because the answer can change between this check and the connection
/// (DNS rebinding). A public name that resolves to a private address is therefore out of scope for this class; it has
/// to be stopped at connect time (e.g. a socket-level filter on the upstream HTTP handler) if the deployment needs it.
/// </remarks>
public sealed class CustomHostValidator
{
    /// <summary>Hosts trusted when <c>TRUSTED_CUSTOM_HOSTS</c> is not set: the local-development names.</summary>
    public static readonly IReadOnlyList<string> DefaultTrustedHosts = ["localhost", "127.0.0.1", "::1", "host.docker.internal"];

    private const int MaxLabels = 10;

    private static readonly HashSet<string> MetadataNames = new(StringComparer.Ordinal)
    {
        "169.254.169.254", "metadata.google.internal", "metadata", "metadata.azure.com", "instance-data",
    };

    private static readonly string[] SpecialUseTlds =
    [
        ".local", ".localdomain", ".internal", ".intranet", ".lan", ".home", ".corp", ".test", ".invalid", ".onion", ".localhost",
    ];

    private readonly TrustedHost[] _trusted;

    /// <summary>Creates a validator trusting <paramref name="trustedHosts"/> (each a host, <c>host:port</c>, <c>[v6]:port</c>, <c>*.suffix</c> or <c>.suffix</c>).</summary>
    /// <remarks>
    /// A non-null list REPLACES <see cref="DefaultTrustedHosts"/> rather than extending it: Portkey builds its trusted set
    /// from <c>TRUSTED_CUSTOM_HOSTS</c> alone and falls back to the defaults only when the variable is unset, so an
    /// operator who sets it must re-list <c>localhost</c> etc. to keep them. A malformed entry throws, so a typo in the
    /// environment fails at startup instead of silently trusting nothing.
    /// </remarks>
    public CustomHostValidator(IEnumerable<string>? trustedHosts)
    {
        var entries = new List<TrustedHost>();
        foreach (var raw in trustedHosts ?? DefaultTrustedHosts)
        {
            var entry = raw?.Trim().ToLowerInvariant() ?? "";
            if (entry.Length == 0) continue;
            var trusted = TrustedHost.Parse(entry)
                ?? throw new ArgumentException(
                    $"Trusted custom host '{entry}' is not a host name, host:port, [IPv6]:port, *.suffix or .suffix.", nameof(trustedHosts));
            entries.Add(trusted);
            // Portkey trusts every *.localhost name once localhost itself is trusted.
            if (!trusted.IsSuffix && trusted.Host == "localhost") entries.Add(trusted with { Host = ".localhost", IsSuffix = true });
        }
        _trusted = [.. entries];
    }

    /// <summary>Builds a validator from the <c>TRUSTED_CUSTOM_HOSTS</c> value (comma-separated); blank or unset means the defaults.</summary>
    public static CustomHostValidator FromEnvironment(string? trustedCustomHostsCsv) =>
        string.IsNullOrWhiteSpace(trustedCustomHostsCsv)
            ? new CustomHostValidator(null)
            : new CustomHostValidator(trustedCustomHostsCsv.Split(','));

    /// <summary>Checks a custom host; on success <paramref name="baseUri"/> is the normalised URL (path kept, trailing slashes removed).</summary>
    /// <remarks>A root path still renders as <c>/</c> because <see cref="Uri"/> always has one; join paths with <c>AbsoluteUri.TrimEnd('/')</c>.</remarks>
    public bool TryValidate(string? customHost, [NotNullWhen(true)] out Uri? baseUri, [NotNullWhen(false)] out string? error)
    {
        baseUri = null;
        error = Check(customHost, ref baseUri);
        return error is null;
    }

    private string? Check(string? customHost, ref Uri? baseUri)
    {
        if (string.IsNullOrWhiteSpace(customHost)) return "Custom host is empty.";

        // Checked before trimming, as Portkey does: a stray CR/LF/TAB around the value is refused rather than hidden.
        // char.IsControl also covers the C1 range, which Portkey lets through.
        foreach (var c in customHost)
        {
            if (char.IsControl(c)) return "Custom host contains control characters.";
        }

        var value = customHost.Trim();
        if (value.Contains("api.portkey", StringComparison.OrdinalIgnoreCase))
            return "Custom host must not point at Portkey's hosted API (api.portkey).";

        var schemeEnd = value.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0) return "Custom host must be an absolute URL starting with http:// or https://.";
        var scheme = value[..schemeEnd].ToLowerInvariant();
        if (scheme is not ("http" or "https")) return "Custom host must use the http or https scheme.";

        if (value.Contains('@')) return "Custom host must not contain user credentials or an '@' sign.";

        // The whole URL, not only the host: a base URL never needs these, and '\' is read as '/' by WHATWG parsers,
        // which is a classic way to make two parsers disagree about where the host ends.
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c)) return "Custom host must not contain whitespace.";
            if ("<>{}|\\^`".Contains(c)) return $"Custom host must not contain the character '{c}'.";
        }

        var rest = value[(schemeEnd + 3)..];
        var authorityEnd = rest.IndexOfAny(['/', '?', '#']);
        var authority = authorityEnd < 0 ? rest : rest[..authorityEnd];
        var pathPart = authorityEnd < 0 ? "" : rest[authorityEnd..];

        // Paths from the incoming request are appended to the base URL, so a query or fragment here would end up in
        // the middle of the upstream URL.
        if (pathPart.Contains('?') || pathPart.Contains('#')) return "Custom host must not contain a query string or fragment.";
        if (authority.Length == 0) return "Custom host has no host name.";

        string hostText;
        string? portText = null;
        var bracketed = authority[0] == '[';
        if (bracketed)
        {
            var close = authority.IndexOf(']');
            if (close < 0) return "Custom host has an IPv6 address without a closing ']'.";
            hostText = authority[1..close];
            var after = authority[(close + 1)..];
            if (after.Length > 0)
            {
                if (after[0] != ':') return "Custom host has unexpected characters after the IPv6 address.";
                portText = after[1..];
            }
        }
        else
        {
            var colon = authority.IndexOf(':');
            hostText = colon < 0 ? authority : authority[..colon];
            if (colon >= 0) portText = authority[(colon + 1)..];
        }

        if (hostText.Contains('%')) return "Custom host must not contain percent-encoded characters or zone ids in the host name.";
        if (hostText.Length == 0) return "Custom host has no host name.";

        int? port = null;
        if (portText is not null)
        {
            if (!TryParsePort(portText, out var parsedPort)) return $"Custom host port '{portText}' is invalid; use a number from 1 to 65535.";
            port = parsedPort;
        }

        var host = hostText.ToLowerInvariant();
        IPAddress? ipv6 = null;
        uint? ipv4 = null;
        if (bracketed)
        {
            if (!IsIPv6Text(host) || !IPAddress.TryParse(host, out ipv6) || ipv6.AddressFamily != AddressFamily.InterNetworkV6)
                return $"Custom host '[{hostText}]' is not a valid IPv6 address.";
        }
        else
        {
            var syntaxError = CheckHostName(host, out ipv4);
            if (syntaxError is not null) return syntaxError;
        }

        var urlHost = ipv6 is null ? host : "[" + ipv6 + "]";
        var normalized = scheme + "://" + urlHost + (port is null ? "" : ":" + port.Value.ToString(CultureInfo.InvariantCulture)) + TrimTrailingSlashes(pathPart);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri)) return "Custom host is not a valid URL.";
        // Our own parse decided what the host is; refuse if System.Uri reads the string differently.
        if (ipv6 is null && !string.Equals(uri.Host, host, StringComparison.Ordinal)) return $"Custom host '{host}' is not in canonical form.";

        if (!IsTrusted(host, ipv6, uri.Port))
        {
            var blocked = ipv6 is not null ? CheckIPv6(ipv6) : ipv4 is not null ? CheckIPv4(ipv4.Value, host) : CheckName(host);
            if (blocked is not null) return blocked;
        }

        baseUri = uri;
        return null;
    }

    private static string? CheckHostName(string host, out uint? ipv4)
    {
        ipv4 = null;
        foreach (var c in host)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-'))
                return "Custom host name may contain only ASCII letters, digits, dots and hyphens (IPv6 addresses go in brackets).";
        }
        if (host.EndsWith('.')) return $"Custom host '{host}' must not end with a dot.";
        if (host.StartsWith('.') || host.Contains("..", StringComparison.Ordinal)) return $"Custom host '{host}' has an empty label.";

        var labels = host.Split('.');
        if (labels.Length > MaxLabels) return $"Custom host '{host}' has more than {MaxLabels} labels.";

        // WHATWG and System.Uri both read a host whose last label is numeric as an IPv4 address, accepting decimal
        // (2130706433), hex (0x7f000001), octal (0177.0.0.1) and short (127.1) spellings. Only the four-decimal-octet
        // form is accepted, so the address checked here is the address that gets dialled.
        if (!LooksNumeric(labels[^1])) return null;
        if (TryParseDottedQuad(labels, out var address))
        {
            ipv4 = address;
            return null;
        }
        return $"Custom host '{host}' uses a non-standard IPv4 notation (decimal, hex, octal or shortened); write the address as four decimal numbers.";
    }

    private string? CheckName(string host)
    {
        if (MetadataNames.Contains(host)) return $"Custom host '{host}' is a cloud metadata endpoint.";
        foreach (var tld in SpecialUseTlds)
        {
            if (host.EndsWith(tld, StringComparison.Ordinal))
                return $"Custom host '{host}' uses the special-use domain '{tld}', which only resolves inside private networks; add it to TRUSTED_CUSTOM_HOSTS to allow it.";
        }
        // A dot-less name is completed by the resolver's search list (Kubernetes services, Docker networks), so it
        // reaches inside the cluster just like a private address does.
        if (!host.Contains('.'))
            return $"Custom host '{host}' is a single-label name that resolves inside the local network; use a fully qualified name or add it to TRUSTED_CUSTOM_HOSTS.";
        return null;
    }

    private static string? CheckIPv4(uint address, string display)
    {
        if ((address & 0xFFFFFF00u) == 0xA9FEA900u) return $"Custom host '{display}' is a cloud metadata endpoint.";
        var range = BlockedIPv4Range(address);
        return range is null
            ? null
            : $"Custom host '{display}' is a private or reserved IPv4 address ({range}); add it to TRUSTED_CUSTOM_HOSTS to allow it.";
    }

    private static string? BlockedIPv4Range(uint a)
    {
        if ((a & 0xFF000000u) == 0x0A000000u) return "10.0.0.0/8, private";
        if ((a & 0xFFF00000u) == 0xAC100000u) return "172.16.0.0/12, private";
        if ((a & 0xFFFF0000u) == 0xC0A80000u) return "192.168.0.0/16, private";
        if ((a & 0xFF000000u) == 0x7F000000u) return "127.0.0.0/8, loopback";
        if ((a & 0xFFFF0000u) == 0xA9FE0000u) return "169.254.0.0/16, link-local";
        if ((a & 0xFFC00000u) == 0x64400000u) return "100.64.0.0/10, carrier-grade NAT";
        if ((a & 0xFF000000u) == 0x00000000u) return "0.0.0.0/8, 'this network'";
        if (a >= 0xE0000000u) return "224.0.0.0/3, multicast or reserved";
        return null;
    }

    private static string? CheckIPv6(IPAddress address)
    {
        var display = "[" + address + "]";
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out _);

        if (b[0] == 0xFD && b[1] == 0x00 && b[2] == 0x0E && b[3] == 0xC2) return $"Custom host '{display}' is a cloud metadata endpoint.";

        var leadingZeros = 0;
        while (leadingZeros < 16 && b[leadingZeros] == 0) leadingZeros++;
        if (leadingZeros == 16) return Refuse("::, unspecified");
        if (leadingZeros == 15 && b[15] == 1) return Refuse("::1, loopback");

        // Forms that carry an IPv4 address are judged by that address, so a blocked IPv4 target cannot be reached
        // through its IPv6 spelling (mapped, compatible, NAT64 or 6to4).
        int? embedded = null;
        if (leadingZeros >= 10 && b[10] == 0xFF && b[11] == 0xFF) embedded = 12;          // ::ffff:a.b.c.d
        else if (leadingZeros >= 12) embedded = 12;                                        // ::a.b.c.d
        else if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && IsZero(b[4..12])) embedded = 12; // 64:ff9b::/96
        else if (b[0] == 0x20 && b[1] == 0x02) embedded = 2;                               // 2002::/16
        if (embedded is int at)
        {
            var v4 = (uint)(b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3]);
            if ((v4 & 0xFFFFFF00u) == 0xA9FEA900u) return $"Custom host '{display}' embeds a cloud metadata address.";
            var v4Range = BlockedIPv4Range(v4);
            return v4Range is null ? null : Refuse("embeds IPv4 " + v4Range);
        }

        if ((b[0] & 0xFE) == 0xFC) return Refuse("fc00::/7, unique local");
        if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return Refuse("fe80::/10, link-local");
        if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return Refuse("fec0::/10, site-local");
        if (b[0] == 0xFF) return Refuse("ff00::/8, multicast");
        return null;

        string Refuse(string range) =>
            $"Custom host '{display}' is a private or reserved IPv6 address ({range}); add it to TRUSTED_CUSTOM_HOSTS to allow it.";
    }

    private bool IsTrusted(string host, IPAddress? ipv6, int port)
    {
        var key = ipv6?.ToString() ?? host;
        foreach (var entry in _trusted)
        {
            if (entry.Port is int p && p != port) continue;
            if (entry.IsSuffix ? key.Length > entry.Host.Length && key.EndsWith(entry.Host, StringComparison.Ordinal) : key == entry.Host)
                return true;
        }
        return false;
    }

    private static bool TryParsePort(string text, out int port)
    {
        port = 0;
        if (text.Length is 0 or > 5) return false;
        foreach (var c in text)
        {
            if (c is < '0' or > '9') return false;
        }
        port = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return port is >= 1 and <= 65535;
    }

    private static bool LooksNumeric(string label)
    {
        if (label.StartsWith("0x", StringComparison.Ordinal)) return true;
        foreach (var c in label)
        {
            if (c is < '0' or > '9') return false;
        }
        return label.Length > 0;
    }

    private static bool TryParseDottedQuad(string[] labels, out uint address)
    {
        address = 0;
        if (labels.Length != 4) return false;
        foreach (var label in labels)
        {
            // A leading zero means octal to some parsers and decimal to others: refuse the ambiguity.
            if (label.Length is 0 or > 3 || (label.Length > 1 && label[0] == '0')) return false;
            var octet = 0;
            foreach (var c in label)
            {
                if (c is < '0' or > '9') return false;
                octet = octet * 10 + (c - '0');
            }
            if (octet > 255) return false;
            address = address << 8 | (uint)octet;
        }
        return true;
    }

    private static bool IsIPv6Text(string text)
    {
        foreach (var c in text)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f') or ':' or '.')) return false;
        }
        return text.Contains(':');
    }

    private static bool IsZero(ReadOnlySpan<byte> bytes) => bytes.IndexOfAnyExcept((byte)0) < 0;

    private static string TrimTrailingSlashes(string path) => path.TrimEnd('/');

    /// <summary>One <c>TRUSTED_CUSTOM_HOSTS</c> entry: an exact host (IPv6 in canonical form) or a <c>.suffix</c>, optionally pinned to a port.</summary>
    private readonly record struct TrustedHost(string Host, int? Port, bool IsSuffix)
    {
        public static TrustedHost? Parse(string entry)
        {
            if (entry.StartsWith("*.", StringComparison.Ordinal)) return Suffix(entry[1..]);
            if (entry.StartsWith('.')) return Suffix(entry);

            string hostText;
            string? portText = null;
            if (entry.StartsWith('['))
            {
                var close = entry.IndexOf(']');
                if (close < 0) return null;
                hostText = entry[1..close];
                var after = entry[(close + 1)..];
                if (after.Length > 0)
                {
                    if (after[0] != ':') return null;
                    portText = after[1..];
                }
                return Address(hostText, portText);
            }

            var colons = entry.Count(c => c == ':');
            if (colons > 1) return Address(entry, null);
            if (colons == 1)
            {
                var colon = entry.IndexOf(':');
                hostText = entry[..colon];
                portText = entry[(colon + 1)..];
            }
            else
            {
                hostText = entry;
            }

            int? port = null;
            if (portText is not null)
            {
                if (!TryParsePort(portText, out var p)) return null;
                port = p;
            }
            return IsNameText(hostText) ? new TrustedHost(hostText, port, false) : null;
        }

        private static TrustedHost? Suffix(string suffix) =>
            suffix.Length > 1 && IsNameText(suffix[1..]) ? new TrustedHost(suffix, null, true) : null;

        private static TrustedHost? Address(string hostText, string? portText)
        {
            if (!IsIPv6Text(hostText) || !IPAddress.TryParse(hostText, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
                return null;
            int? port = null;
            if (portText is not null)
            {
                if (!TryParsePort(portText, out var p)) return null;
                port = p;
            }
            return new TrustedHost(address.ToString(), port, false);
        }

        private static bool IsNameText(string text)
        {
            if (text.Length == 0 || text.StartsWith('.') || text.EndsWith('.')) return false;
            foreach (var c in text)
            {
                if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-')) return false;
            }
            return true;
        }
    }
}
