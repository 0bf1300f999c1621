using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Switchyard.Simulators.Azure;

/// <summary>
/// A fake Microsoft Entra token service and App Service managed identity endpoint, served by <see cref="AzureOpenAiSimulator"/>:
/// <c>POST /{tenant}/oauth2/v2.0/token</c> (client_credentials with client_secret or client_assertion),
/// the discovery documents MSAL reads first, and <c>GET /msi/token</c> (App Service, header <c>X-IDENTITY-HEADER</c>).
/// Every issued token is accepted by the simulator's data plane.
/// </summary>
public sealed class AzureIdentitySimulator
{
    private readonly ConcurrentQueue<AzureRecordedRequest> _requests = new();
    private readonly ConcurrentQueue<string> _issued = new();
    private int _counter;

    /// <summary>Client id → client secret accepted by the token endpoint.</summary>
    public ConcurrentDictionary<string, string> ClientSecrets { get; } = new();

    /// <summary>Client id → the federated token (the content of the workload's token file) accepted as client_assertion.</summary>
    public ConcurrentDictionary<string, string> FederatedTokens { get; } = new();

    /// <summary>The secret App Service puts in IDENTITY_HEADER.</summary>
    public string IdentityHeader { get; set; } = "msi-header-secret";

    /// <summary>Lifetime of issued tokens.</summary>
    public int ExpiresIn { get; set; } = 3600;

    /// <summary>Every identity request (token, discovery, managed identity), in order.</summary>
    public IReadOnlyList<AzureRecordedRequest> Requests => [.. _requests];

    /// <summary>Every access token issued, in order.</summary>
    public IReadOnlyList<string> Issued => [.. _issued];

    internal (int, string, string)? TryAnswer(HttpRequest request, string body, AzureRecordedRequest recorded, AzureOpenAiSimulator owner)
    {
        const string Json = "application/json";
        var path = request.Path.Value ?? "";
        var parts = path.Trim('/').Split('/');
        var host = $"{request.Scheme}://{request.Host}";
        if (parts.Length == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token" && request.Method == "POST")
        {
            _requests.Enqueue(recorded);
            return Token(parts[0], body, owner);
        }
        if (path.EndsWith("/v2.0/.well-known/openid-configuration", StringComparison.Ordinal) || path == "/common/discovery/instance")
        {
            _requests.Enqueue(recorded);
            var tenant = parts[0];
            if (path == "/common/discovery/instance")
            {
                var authority = request.Host.Value;
                return (200, new JsonObject
                {
                    ["tenant_discovery_endpoint"] = $"{host}/{tenant}/v2.0/.well-known/openid-configuration",
                    ["api-version"] = "1.1",
                    ["metadata"] = new JsonArray(new JsonObject
                    {
                        ["preferred_network"] = authority, ["preferred_cache"] = authority, ["aliases"] = new JsonArray(authority),
                    }),
                }.ToJsonString(), Json);
            }
            return (200, new JsonObject
            {
                ["token_endpoint"] = $"{host}/{tenant}/oauth2/v2.0/token",
                ["authorization_endpoint"] = $"{host}/{tenant}/oauth2/v2.0/authorize",
                ["issuer"] = $"{host}/{tenant}/v2.0",
                ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_post", "private_key_jwt", "client_secret_basic"),
            }.ToJsonString(), Json);
        }
        if (path == "/msi/token" && request.Method == "GET")
        {
            _requests.Enqueue(recorded);
            if (request.Headers["X-IDENTITY-HEADER"].ToString() != IdentityHeader)
            {
                return (401, """{"statusCode":401,"message":"Unauthorized request, please check the identity header"}""", Json);
            }
            if (request.Query["api-version"].ToString() != "2019-08-01" || request.Query["resource"].ToString().Length == 0)
            {
                return (400, """{"statusCode":400,"message":"api-version 2019-08-01 and resource are required"}""", Json);
            }
            var token = Issue(owner);
            var expiresOn = DateTimeOffset.UtcNow.AddSeconds(ExpiresIn).ToUnixTimeSeconds();
            return (200, new JsonObject
            {
                ["access_token"] = token, ["expires_on"] = expiresOn.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["resource"] = request.Query["resource"].ToString(), ["token_type"] = "Bearer",
                ["client_id"] = request.Query["client_id"].ToString() is { Length: > 0 } c ? c : "system-assigned",
            }.ToJsonString(), Json);
        }
        return null;
    }

    private (int, string, string) Token(string tenant, string body, AzureOpenAiSimulator owner)
    {
        const string Json = "application/json";
        var form = body.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");
        string Get(string name) => form.TryGetValue(name, out var v) ? v : "";
        if (Get("grant_type") != "client_credentials")
        {
            return (400, Error("unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type."), Json);
        }
        if (!Get("scope").EndsWith("/.default", StringComparison.Ordinal))
        {
            return (400, Error("invalid_scope", "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier."), Json);
        }
        var client = Get("client_id");
        bool ok;
        if (form.ContainsKey("client_assertion"))
        {
            ok = Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                && FederatedTokens.TryGetValue(client, out var expected) && expected == Get("client_assertion");
        }
        else
        {
            ok = ClientSecrets.TryGetValue(client, out var secret) && secret == Get("client_secret");
        }
        if (!ok)
        {
            return (401, Error("invalid_client", $"AADSTS7000215: Invalid client secret provided. Tenant '{tenant}', client '{client}'."), Json);
        }
        var token = Issue(owner);
        return (200, new JsonObject { ["token_type"] = "Bearer", ["expires_in"] = ExpiresIn, ["ext_expires_in"] = ExpiresIn, ["access_token"] = token }.ToJsonString(), Json);
    }

    private string Issue(AzureOpenAiSimulator owner)
    {
        var token = "entra-issued-" + Interlocked.Increment(ref _counter) + "-" + Guid.NewGuid().ToString("N")[..8];
        _issued.Enqueue(token);
        owner.AcceptedTokens[token] = true;
        return token;
    }

    private static string Error(string code, string description) =>
        new JsonObject { ["error"] = code, ["error_description"] = description, ["error_codes"] = new JsonArray(7000215) }.ToJsonString();
}
