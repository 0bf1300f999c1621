using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Apis.Auth.OAuth2;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Google;

/// <summary>
/// OAuth access tokens for Vertex AI: minted from a service account key (JWT-bearer grant at the key's
/// <c>token_uri</c>, via Google.Apis.Auth) or fetched from the GCE metadata server (workload identity), cached per
/// credential until five minutes before they expire.
/// </summary>
public sealed class GoogleTokenSource(TimeProvider? time = null)
{
    public const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    private static readonly HttpClient Metadata = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
    })
    {
        Timeout = TimeSpan.FromSeconds(15),
    };

    // The system clock only for sources built outside the engine (tests); VertexAdapter and SwitchyardEngine.RedisOptions pass the engine's.
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private sealed class Entry
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public string? Token;
        public DateTimeOffset RefreshAt;
        public ServiceAccountCredential? Credential;
    }

    /// <summary>How many tokens this source has obtained (minted or fetched), for diagnostics and tests.</summary>
    public int Issued => _issued;

    private int _issued;

    /// <summary>A token for the service account whose key file is <paramref name="serviceAccountJson"/>.</summary>
    public Task<string> ServiceAccountTokenAsync(string serviceAccountJson, CancellationToken ct)
    {
        var key = "sa:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(serviceAccountJson)));
        return GetAsync(key, async entry =>
        {
            entry.Credential ??= CreateCredential(serviceAccountJson);
            if (!await entry.Credential.RequestAccessTokenAsync(ct).ConfigureAwait(false) || entry.Credential.Token is not { } token)
            {
                throw new TranslationException("Vertex AI: the service account token request failed", 401);
            }
            return (token.AccessToken, token.ExpiresInSeconds ?? 3600);
        }, ct);
    }

    /// <summary>A token of the VM's (or workload's) default service account from the metadata server at <paramref name="metadataHost"/>.</summary>
    public Task<string> WorkloadTokenAsync(string metadataHost, CancellationToken ct) =>
        GetAsync("wl:" + metadataHost, async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{metadataHost}/computeMetadata/v1/instance/service-accounts/default/token");
            request.Headers.Add("Metadata-Flavor", "Google");
            using var response = await Metadata.SendAsync(request, ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new TranslationException($"Vertex AI: the metadata server answered {(int)response.StatusCode} to the token request", 401);
            }
            var json = ChatJson.ParseObject(body, "metadata server token");
            var token = ChatJson.String(json["access_token"]) ?? throw new TranslationException("Vertex AI: the metadata server sent no access_token", 401);
            return (token, ChatJson.Long(json["expires_in"]) is > 0 and var expires ? expires : 3600);
        }, ct);

    private async Task<string> GetAsync(string key, Func<Entry, Task<(string Token, long ExpiresIn)>> fetch, CancellationToken ct)
    {
        var entry = _entries.GetOrAdd(key, _ => new Entry());
        if (entry.Token is { } cached && _time.GetUtcNow() < entry.RefreshAt)
        {
            return cached;
        }
        await entry.Gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (entry.Token is { } again && _time.GetUtcNow() < entry.RefreshAt)
            {
                return again;
            }
            (string token, long expiresIn) result;
            try
            {
                result = await fetch(entry).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or global::Google.Apis.Auth.OAuth2.Responses.TokenResponseException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                throw new TranslationException("Vertex AI: could not obtain an access token: " + ex.Message, 401);
            }
            Interlocked.Increment(ref _issued);
            entry.Token = result.token;
            entry.RefreshAt = _time.GetUtcNow() + TimeSpan.FromSeconds(result.expiresIn) - RefreshMargin;
            return result.token;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    private static ServiceAccountCredential CreateCredential(string json)
    {
        JsonObject key;
        try
        {
            key = JsonNode.Parse(json) as JsonObject ?? throw new TranslationException("vertex_service_account_json is not a JSON object");
        }
        catch (JsonException)
        {
            throw new TranslationException("vertex_service_account_json is not valid JSON");
        }
        var email = ChatJson.String(key["client_email"]);
        var privateKey = ChatJson.String(key["private_key"]);
        if (email is null || privateKey is null)
        {
            throw new TranslationException("vertex_service_account_json needs client_email and private_key");
        }
        var tokenUri = ChatJson.String(key["token_uri"]) ?? GoogleAuthConsts.OidcTokenUrl;
        try
        {
            var initializer = new ServiceAccountCredential.Initializer(email, tokenUri)
            {
                Scopes = [CloudPlatformScope],
                KeyId = ChatJson.String(key["private_key_id"]),
                ProjectId = ChatJson.String(key["project_id"]),
            }.FromPrivateKey(privateKey);
            return new ServiceAccountCredential(initializer);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or CryptographicException)
        {
            throw new TranslationException("vertex_service_account_json has an unreadable private_key: " + ex.Message);
        }
    }

    internal static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);
}
