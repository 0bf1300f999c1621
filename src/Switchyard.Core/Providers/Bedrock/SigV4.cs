using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Switchyard.Core.Providers.Bedrock;

/// <summary>AWS credentials: static keys, or temporary ones with a session token and an expiry.</summary>
public sealed record AwsCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken = null, DateTimeOffset? Expiration = null);

/// <summary>AWS Signature Version 4 (header form) for non-S3 services: canonical request, string to sign, derived key.</summary>
public static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>Signs <paramref name="request"/> in place: adds <c>x-amz-date</c>, <c>x-amz-security-token</c> (temporary credentials) and <c>Authorization</c>.</summary>
    /// <remarks>Signed headers: host, content-type (when there is content) and every x-amz-* header on the request.</remarks>
    public static void Sign(HttpRequestMessage request, ReadOnlySpan<byte> payload, AwsCredentials credentials, string region, string service, DateTimeOffset now)
    {
        var amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        request.Headers.Remove("x-amz-date");
        request.Headers.TryAddWithoutValidation("x-amz-date", amzDate);
        request.Headers.Remove("x-amz-security-token");
        if (credentials.SessionToken is { Length: > 0 } token)
        {
            request.Headers.TryAddWithoutValidation("x-amz-security-token", token);
        }
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI");
        var headers = new List<(string, string)> { ("host", uri.IsDefaultPort ? uri.Host : uri.Authority) };
        if (request.Content?.Headers.ContentType is { } type)
        {
            headers.Add(("content-type", type.ToString()));
        }
        foreach (var (name, values) in request.Headers.NonValidated)
        {
            if (name.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase))
            {
                headers.Add((name, string.Join(",", values)));
            }
        }
        request.Headers.Remove("Authorization");
        request.Headers.TryAddWithoutValidation("Authorization",
            Authorization(request.Method.Method, uri, headers, payload, credentials, region, service, amzDate));
    }

    /// <summary>The <c>Authorization</c> header value for a request with these headers (names in any case; host included).</summary>
    public static string Authorization(string method, Uri uri, IEnumerable<(string Name, string Value)> headers, ReadOnlySpan<byte> payload,
        AwsCredentials credentials, string region, string service, string amzDate)
    {
        var canonical = CanonicalRequest(method, uri, headers, Hex(SHA256.HashData(payload)), out var signedHeaders);
        var scope = $"{amzDate[..8]}/{region}/{service}/aws4_request";
        var stringToSign = $"{Algorithm}\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = SigningKey(credentials.SecretAccessKey, amzDate[..8], region, service);
        var signature = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        return $"{Algorithm} Credential={credentials.AccessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    /// <summary>The canonical request: method, URI-encoded path (already-escaped segments are encoded again), sorted query, headers, signed headers, payload hash.</summary>
    public static string CanonicalRequest(string method, Uri uri, IEnumerable<(string Name, string Value)> headers, string payloadHash, out string signedHeaders)
    {
        var sorted = headers
            .GroupBy(h => h.Name.ToLowerInvariant())
            .Select(g => (Name: g.Key, Value: string.Join(",", g.Select(h => Trim(h.Value)))))
            .OrderBy(h => h.Name, StringComparer.Ordinal)
            .ToList();
        signedHeaders = string.Join(";", sorted.Select(h => h.Name));
        var sb = new StringBuilder();
        sb.Append(method).Append('\n');
        sb.Append(CanonicalPath(uri.AbsolutePath)).Append('\n');
        sb.Append(CanonicalQuery(uri.Query)).Append('\n');
        foreach (var (name, value) in sorted)
        {
            sb.Append(name).Append(':').Append(value).Append('\n');
        }
        sb.Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);
        return sb.ToString();
    }

    public static byte[] SigningKey(string secret, string date, string region, string service)
    {
        var k = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        k = HMACSHA256.HashData(k, Encoding.UTF8.GetBytes(region));
        k = HMACSHA256.HashData(k, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(k, "aws4_request"u8);
    }

    /// <summary>Each path segment, as it appears on the wire, URI-encoded once more (SigV4 for everything but S3).</summary>
    public static string CanonicalPath(string escapedPath)
    {
        if (escapedPath.Length == 0)
        {
            return "/";
        }
        return string.Join("/", escapedPath.Split('/').Select(Encode));
    }

    private static string CanonicalQuery(string query)
    {
        if (query.Length <= 1)
        {
            return "";
        }
        var pairs = query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p =>
        {
            var eq = p.IndexOf('=');
            var name = Uri.UnescapeDataString(eq < 0 ? p : p[..eq]);
            var value = eq < 0 ? "" : Uri.UnescapeDataString(p[(eq + 1)..]);
            return (Name: Encode(name), Value: Encode(value));
        });
        return string.Join("&", pairs.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal).Select(p => p.Name + "=" + p.Value));
    }

    /// <summary>RFC 3986 encoding: unreserved characters stay, every other byte becomes %XX (upper case).</summary>
    public static string Encode(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    private static string Trim(string value) => string.Join(' ', value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries));
}
