using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Switchyard.Gateway.Mcp.Registry;

/// <summary>
/// Upstream bearer tokens from the OAuth 2.0 client-credentials grant (<c>auth_type: oauth_client_credentials</c>): requested from
/// <c>token_url</c> with <c>client_secret_post</c>, cached per server and credential until shortly before <c>expires_in</c>, then renewed.
/// </summary>
public sealed class McpClientCredentialsTokens(HttpMessageInvoker http, TimeProvider time, ILogger logger)
{
    /// <summary>A token is renewed this long before it expires (or at half its lifetime, if that is shorter).</summary>
    public static TimeSpan RenewBefore { get; } = TimeSpan.FromSeconds(60);

    /// <summary>The lifetime assumed when the token endpoint gives no <c>expires_in</c>.</summary>
    public static TimeSpan DefaultLifetime { get; } = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>How many tokens were fetched (tests count renewals with it).</summary>
    public int Fetches => Volatile.Read(ref _fetches);

    private int _fetches;

    /// <summary>A valid access token for <paramref name="server"/>, fetched or renewed when needed.</summary>
    /// <exception cref="McpUpstreamUnavailableException">The token endpoint failed; the message names the server and the endpoint.</exception>
    public async ValueTask<string> GetAsync(McpUpstreamServer server, CancellationToken ct)
    {
        var credentials = server.ClientCredentials ?? throw new InvalidOperationException($"server '{server.Id}' has no client credentials");
        var entry = _entries.GetOrAdd(Key(server.Id, credentials), _ => new Entry());
        if (entry.Token is { } cached && time.GetUtcNow() < cached.RenewAt)
        {
            return cached.Value;
        }
        await entry.Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (entry.Token is { } again && time.GetUtcNow() < again.RenewAt)
            {
                return again.Value;
            }
            var token = await FetchAsync(server, credentials, ct).ConfigureAwait(false);
            entry.Token = token;
            return token.Value;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>Forgets the cached token of <paramref name="server"/> (the upstream answered 401 to it).</summary>
    public void Invalidate(McpUpstreamServer server)
    {
        if (server.ClientCredentials is { } credentials && _entries.TryGetValue(Key(server.Id, credentials), out var entry))
        {
            entry.Token = null;
        }
    }

    private async Task<Token> FetchAsync(McpUpstreamServer server, McpClientCredentials credentials, CancellationToken ct)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "client_credentials"),
            new("client_id", credentials.ClientId),
            new("client_secret", credentials.ClientSecret),
        };
        if (credentials.Scope is { } scope)
        {
            form.Add(new("scope", scope));
        }
        if (credentials.Resource is { } resource)
        {
            form.Add(new("resource", resource));
        }
        var endpoint = credentials.TokenUrl.GetLeftPart(UriPartial.Path);
        using var request = new HttpRequestMessage(HttpMethod.Post, credentials.TokenUrl) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(server.ConnectTimeout);
        Interlocked.Increment(ref _fetches);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw Fail(server, $"the OAuth token request to {endpoint} timed out after {server.ConnectTimeout.TotalMilliseconds:0} ms");
        }
        catch (HttpRequestException ex)
        {
            throw Fail(server, $"the OAuth token request to {endpoint} failed: {ex.Message}", ex);
        }
        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            string? accessToken = null;
            string? oauthError = null;
            double? expiresIn = null;
            string? tokenType = null;
            try
            {
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.ValueKind == JsonValueKind.Object)
                {
                    var root = json.RootElement;
                    accessToken = root.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
                    oauthError = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
                    tokenType = root.TryGetProperty("token_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                    if (root.TryGetProperty("expires_in", out var x))
                    {
                        expiresIn = x.ValueKind == JsonValueKind.Number ? x.GetDouble()
                            : x.ValueKind == JsonValueKind.String && double.TryParse(x.GetString(), System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
                    }
                }
            }
            catch (JsonException)
            {
            }
            if (!response.IsSuccessStatusCode)
            {
                // The OAuth error code only (RFC 6749 §5.2): descriptions can quote what was sent.
                var code = oauthError is not null && oauthError.All(c => c is >= ' ' and <= '~') && oauthError.Length <= 64 ? $" ({oauthError})" : "";
                throw Fail(server, $"the OAuth token endpoint {endpoint} answered HTTP {(int)response.StatusCode}{code}");
            }
            if (string.IsNullOrEmpty(accessToken) || accessToken.Any(c => c is < '!' or > '~'))
            {
                throw Fail(server, $"the OAuth token endpoint {endpoint} answered without a usable access_token");
            }
            if (tokenType is not null && !tokenType.Equals("bearer", StringComparison.OrdinalIgnoreCase))
            {
                throw Fail(server, $"the OAuth token endpoint {endpoint} issued a '{McpServersFile.Printable(tokenType)}' token; only bearer tokens are supported");
            }
            var lifetime = expiresIn is > 0 and < 10 * 365 * 86400 ? TimeSpan.FromSeconds(expiresIn.Value) : DefaultLifetime;
            var margin = lifetime / 2 < RenewBefore ? lifetime / 2 : RenewBefore;
            var now = time.GetUtcNow();
            logger.LogDebug("Got an OAuth token for MCP server {Server} from {Endpoint}, valid {Seconds} s", server.Id, endpoint, (int)lifetime.TotalSeconds);
            return new Token(accessToken, now + lifetime - margin);
        }
    }

    private McpUpstreamUnavailableException Fail(McpUpstreamServer server, string reason, Exception? inner = null)
    {
        logger.LogWarning("MCP server {Server}: {Reason}", server.Id, reason);
        return new McpUpstreamUnavailableException(server.Id, $"Upstream MCP server '{server.Id}': {reason}", inner);
    }

    // A changed secret or token URL must not reuse the old token: the key covers them, hashed so no secret sits in memory as a key.
    private static string Key(string serverId, McpClientCredentials c) =>
        serverId + "\n" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{c.TokenUrl}\n{c.ClientId}\n{c.ClientSecret}\n{c.Scope}\n{c.Resource}")));

    private sealed record Token(string Value, DateTimeOffset RenewAt);

    private sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public Token? Token { get; set; }
    }
}
