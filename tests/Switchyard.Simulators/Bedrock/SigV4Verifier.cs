using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Switchyard.Simulators.Bedrock;

/// <summary>Checks AWS SigV4 header signatures the way AWS does, written for the simulator apart from the gateway's signer.</summary>
internal static class SigV4Verifier
{
    /// <summary>Null when the signature is valid; otherwise (error type, message).</summary>
    public static (string Type, string Message)? Verify(HttpRequest request, string rawPath, byte[] body, string service, string? expectedRegion,
        Func<string, (string Secret, string? Token)?> lookup)
    {
        var auth = request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(auth))
        {
            return ("MissingAuthenticationTokenException", "Missing Authentication Token");
        }
        if (!auth.StartsWith("AWS4-HMAC-SHA256 ", StringComparison.Ordinal))
        {
            return ("IncompleteSignatureException", "Authorization header requires the AWS4-HMAC-SHA256 algorithm.");
        }
        var parts = auth["AWS4-HMAC-SHA256 ".Length..].Split(',', StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("Credential", out var credential) || !parts.TryGetValue("SignedHeaders", out var signedHeaders) || !parts.TryGetValue("Signature", out var signature))
        {
            return ("IncompleteSignatureException", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'.");
        }
        var scope = credential.Split('/');
        if (scope.Length != 5 || scope[4] != "aws4_request")
        {
            return ("IncompleteSignatureException", $"Credential should be scoped to a valid region: {credential}");
        }
        var (keyId, date, region, svc) = (scope[0], scope[1], scope[2], scope[3]);
        var known = lookup(keyId);
        if (known is null)
        {
            return ("UnrecognizedClientException", "The security token included in the request is invalid.");
        }
        var token = request.Headers["x-amz-security-token"].ToString();
        if (known.Value.Token is not null && token != known.Value.Token)
        {
            return ("UnrecognizedClientException", "The security token included in the request is invalid.");
        }
        var amzDate = request.Headers["x-amz-date"].ToString();
        if (amzDate.Length != 16 || amzDate[..8] != date)
        {
            return ("InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.");
        }
        if (svc != service)
        {
            return ("InvalidSignatureException", $"Credential should be scoped to correct service: '{service}'.");
        }
        if (expectedRegion is not null && region != expectedRegion)
        {
            return ("InvalidSignatureException", $"Credential should be scoped to a valid region, not '{region}'.");
        }
        var names = signedHeaders.Split(';');
        if (!names.Contains("host") || !names.Contains("x-amz-date") || (token.Length > 0 && !names.Contains("x-amz-security-token")))
        {
            return ("InvalidSignatureException", "Signed headers must include host and x-amz-date (and x-amz-security-token when sent).");
        }
        var canonical = new StringBuilder();
        canonical.Append(request.Method).Append('\n');
        canonical.Append(string.Join("/", rawPath.Split('/').Select(UriEncode))).Append('\n');
        canonical.Append(CanonicalQuery(request.QueryString.Value ?? "")).Append('\n');
        foreach (var name in names)
        {
            var value = name == "host" ? request.Host.Value : string.Join(",", request.Headers[name].ToArray());
            canonical.Append(name).Append(':').Append(CollapseSpaces(value ?? "")).Append('\n');
        }
        canonical.Append('\n').Append(signedHeaders).Append('\n');
        var payloadHash = request.Headers["x-amz-content-sha256"].ToString();
        canonical.Append(payloadHash.Length > 0 ? payloadHash : Convert.ToHexStringLower(SHA256.HashData(body)));

        var stringToSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + string.Join("/", date, region, svc, "aws4_request") + "\n"
            + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + known.Value.Secret), date);
        key = Hmac(key, region);
        key = Hmac(key, svc);
        key = Hmac(key, "aws4_request");
        var expected = Convert.ToHexStringLower(Hmac(key, stringToSign));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)))
        {
            return ("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
        }
        return null;
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string CollapseSpaces(string v)
    {
        var sb = new StringBuilder();
        var space = false;
        foreach (var ch in v.Trim())
        {
            if (ch == ' ')
            {
                if (!space)
                {
                    sb.Append(ch);
                }
                space = true;
            }
            else
            {
                sb.Append(ch);
                space = false;
            }
        }
        return sb.ToString();
    }

    private static string CanonicalQuery(string query)
    {
        if (query.Length <= 1)
        {
            return "";
        }
        return string.Join("&", query[1..].Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (K: UriEncode(Uri.UnescapeDataString(p[0])), V: UriEncode(Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""))))
            .OrderBy(p => p.K, StringComparer.Ordinal).ThenBy(p => p.V, StringComparer.Ordinal)
            .Select(p => p.K + "=" + p.V));
    }

    private static string UriEncode(string s)
    {
        const string unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            if (unreserved.Contains((char)b))
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
}
