using System.Security.Cryptography;
using System.Text;

namespace Switchyard.Core.Security.ApiKeys;

/// <summary>
/// Key hashes as written in key files: <c>sha256:&lt;hex&gt;</c> of the UTF-8 key. Keys are random high-entropy tokens, so a fast
/// hash is enough (nothing to brute-force) and keeps the check cheap on every request.
/// </summary>
public static class ApiKeyHash
{
    public const string Prefix = "sha256:";

    public static byte[] Compute(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static string Format(byte[] hash) => Prefix + Convert.ToHexStringLower(hash);

    public static string Format(string key) => Format(Compute(key));

    /// <summary>Parses <c>sha256:&lt;64 hex&gt;</c>; null when the text is not one.</summary>
    public static byte[]? Parse(string text)
    {
        text = text.Trim();
        if (!text.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) || text.Length != Prefix.Length + 64)
        {
            return null;
        }
        try
        {
            return Convert.FromHexString(text.AsSpan(Prefix.Length));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>A fresh key: <c>sy-</c> and 32 random bytes, base64url.</summary>
    public static string Generate()
    {
        Span<byte> bytes = stackalloc byte[32];
        RandomNumberGenerator.Fill(bytes);
        return "sy-" + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
