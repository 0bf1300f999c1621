using System.Security.Cryptography;
using System.Text;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Caching;

/// <summary>
/// Builds cache keys from everything that decides an answer: the endpoint and its path, the resolved target (provider,
/// base URL or custom host, provider fields such as deployment and region), the tenant (the credential in use), the
/// optional <c>x-portkey-cache-namespace</c>, and the request body in canonical form. Secrets only enter the SHA-256.
/// </summary>
internal static class ResponseCacheKey
{
    /// <summary>The part every key of this request and target shares; the body (or its semantic context) is added to it.</summary>
    public static byte[] Scope(GatewayRequest request, ResolvedTarget target)
    {
        var text = new StringBuilder(256);
        Field(text, "fn", request.Endpoint.FnName());
        Field(text, "path", request.UpstreamPath);
        Field(text, "query", request.QueryString);
        Field(text, "provider", target.Provider.Slug);
        Field(text, "base", target.BaseUrl);
        foreach (var (name, value) in target.ProviderFields.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Field(text, "field:" + name, value);
        }
        // The tenant. Until the gateway issues its own keys, the provider credential decides who may see an answer.
        Field(text, "credential", target.ApiKey ?? "");
        Field(text, "namespace", request.Headers.Get("x-portkey-cache-namespace") ?? "");
        // Strict mode changes the answer's shape (finish reasons, content_blocks): the two never share an entry.
        if (!Translation.ChatCall.IsStrict(request, target.Settings))
        {
            Field(text, "strict", "false");
        }
        return SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary><c>{prefix}resp:{sha256(scope, body)}</c>.</summary>
    public static string Exact(string prefix, byte[] scope, ReadOnlySpan<byte> canonicalBody) => prefix + "resp:" + Hash(scope, canonicalBody);

    /// <summary><c>{prefix}sem:{sha256(scope, context)}</c>: the list of vectors for requests sharing everything but the last user message.</summary>
    public static string SemanticBucket(string prefix, byte[] scope, string context) => prefix + "sem:" + Hash(scope, Encoding.UTF8.GetBytes(context));

    private static string Hash(byte[] scope, ReadOnlySpan<byte> rest)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(scope);
        hash.AppendData(rest);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest);
    }

    private static void Field(StringBuilder text, string name, string value)
    {
        // Length-prefixed, so no value can be crafted to look like another field.
        text.Append(name).Append(':').Append(value.Length).Append(':').Append(value).Append('\n');
    }
}
