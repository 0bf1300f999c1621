using System.Globalization;

namespace Switchyard.Core.Redis;

/// <summary>Where and how <see cref="RedisConnection"/> connects: endpoints, credentials, TLS, timeouts and reconnect backoff.</summary>
public sealed record RedisOptions
{
    public const int DefaultPort = 6379;

    /// <summary>Seed nodes; in cluster mode any one of them is enough to discover the rest.</summary>
    public IReadOnlyList<(string Host, int Port)> Endpoints { get; init; } = [];

    public bool Cluster { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>Called for each new connection when set (IAM tokens used as password that change over time); overrides Password.</summary>
    public Func<CancellationToken, ValueTask<string>>? PasswordProvider { get; init; }

    public bool Tls { get; init; }

    /// <summary>PEM with CA certificate(s) trusted in addition to the system roots (self-signed Memorystore).</summary>
    public string? TlsCaFile { get; init; }

    /// <summary>SNI and the name the certificate must carry; the endpoint host by default.</summary>
    public string? TlsServerName { get; init; }

    /// <summary>The database commands use (standalone only: a cluster has only database 0).</summary>
    public int Database { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan ReconnectMinDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Parses <c>redis://[user[:pass]@]host[:port][/db]</c> and <c>rediss://…</c> (TLS). User and password are
    /// percent-decoded. Bad input raises a <see cref="FormatException"/> whose message never contains the password.
    /// </summary>
    public static RedisOptions FromUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        url = url.Trim();
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            throw new FormatException("A Redis URL must start with redis:// or rediss://");
        }
        var scheme = url[..schemeEnd].ToLowerInvariant();
        if (scheme is not ("redis" or "rediss"))
        {
            throw new FormatException($"A Redis URL must start with redis:// or rediss://, not {scheme}://");
        }
        var rest = url[(schemeEnd + 3)..];

        // The last '@' ends the user information, so a password with an unencoded '@', '/', '?' or ':' still parses
        // and never reaches an error message about the host, port or path.
        var at = rest.LastIndexOf('@');
        string? username = null;
        string? password = null;
        if (at >= 0)
        {
            var userInfo = rest[..at];
            rest = rest[(at + 1)..];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            username = Uri.UnescapeDataString(colon < 0 ? userInfo : userInfo[..colon]);
            password = colon < 0 ? null : Uri.UnescapeDataString(userInfo[(colon + 1)..]);
            if (username.Length == 0)
            {
                username = null;
            }
        }
        if (rest.IndexOfAny(['?', '#']) >= 0)
        {
            throw new FormatException("A Redis URL must not have query parameters or a fragment; set TLS and the database with rediss:// and /db");
        }
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        var path = slash < 0 ? "" : rest[(slash + 1)..];

        var (host, port) = ParseHostPort(authority);
        var database = 0;
        if (path.Length > 0 && !int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out database))
        {
            throw new FormatException($"The Redis URL path must be a database number (e.g. /0), not '/{path}'");
        }
        return new RedisOptions
        {
            Endpoints = [(host, port)],
            Username = username,
            Password = password,
            Tls = scheme == "rediss",
            Database = database,
        };
    }

    private static (string Host, int Port) ParseHostPort(string authority)
    {
        string host;
        string? portText = null;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException("The Redis URL has an IPv6 address without a closing ']'");
            }
            host = authority[1..close];
            var after = authority[(close + 1)..];
            if (after.Length > 0)
            {
                portText = after.StartsWith(':') ? after[1..] : throw new FormatException("The Redis URL has text after the IPv6 address that is not a port");
            }
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            portText = colon < 0 ? null : authority[(colon + 1)..];
        }
        if (host.Length == 0)
        {
            throw new FormatException("The Redis URL has no host");
        }
        if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            throw new FormatException($"The Redis URL host '{host}' is not a valid host name or address");
        }
        var port = DefaultPort;
        if (portText is not null
            && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            throw new FormatException($"The Redis URL port '{portText}' is not a number from 1 to 65535");
        }
        return (host, port);
    }
}
