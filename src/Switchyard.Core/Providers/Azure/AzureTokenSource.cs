using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Switchyard.Core.Errors;
using Switchyard.Core.Security;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Azure;

/// <summary>
/// Microsoft Entra tokens for Azure OpenAI targets (<c>azure_auth_mode</c> <c>entra</c>, <c>managed</c>, <c>workload</c>)
/// through Azure.Identity. One credential per (mode, tenant, client, secret hash, authority), and each token is reused
/// until five minutes before it expires, so a busy target does not ask Entra on every request.
/// </summary>
public sealed class AzureTokenSource
{
    /// <summary>The scope of Azure OpenAI (Cognitive Services) when <c>azure_entra_scope</c> is not set.</summary>
    public const string DefaultScope = "https://cognitiveservices.azure.com/.default";

    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    private readonly Func<string, string?> _environment;
    private readonly ExtraCaTrust? _trust;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, CachedCredential> _credentials = new(StringComparer.Ordinal);
    private HttpPipelineTransport? _transport;
    private int _issued;

    /// <param name="time">The engine's clock, which decides when a cached token is too close to expiry to reuse.</param>
    public AzureTokenSource(Func<string, string?> environment, ExtraCaTrust? trust, TimeProvider time)
    {
        _environment = environment;
        _trust = trust;
        _time = time;
    }

    /// <summary>Tokens obtained from Entra or a managed identity endpoint so far (cache hits not counted).</summary>
    public int TokensIssued => Volatile.Read(ref _issued);

    /// <summary>A bearer token for <paramref name="target"/> in auth mode <paramref name="mode"/>; throws <see cref="ArgumentException"/> for missing settings.</summary>
    public async ValueTask<string> GetTokenAsync(string mode, ResolvedTarget target, CancellationToken ct)
    {
        var scope = target.Field("azure_entra_scope") ?? DefaultScope;
        var authority = target.Field("azure_authority_host") ?? Env("AZURE_AUTHORITY_HOST");
        string key;
        Func<TokenCredential> create;
        switch (mode)
        {
            case "entra":
            {
                var tenant = target.Field("azure_entra_tenant_id") ?? throw new ArgumentException("azure_auth_mode entra needs azure_entra_tenant_id");
                var client = target.Field("azure_entra_client_id") ?? throw new ArgumentException("azure_auth_mode entra needs azure_entra_client_id");
                var secret = target.Field("azure_entra_client_secret") ?? throw new ArgumentException("azure_auth_mode entra needs azure_entra_client_secret");
                key = Key(mode, tenant, client, Hash(secret), authority);
                create = () => new ClientSecretCredential(tenant, client, secret,
                    Options(new ClientSecretCredentialOptions { DisableInstanceDiscovery = IsPrivateAuthority(authority) }, authority));
                break;
            }
            case "managed":
            {
                var client = target.Field("azure_managed_client_id");
                key = Key(mode, "", client ?? "", "", "");
                create = () => new ManagedIdentityCredential(Options(
                    new ManagedIdentityCredentialOptions(client is null ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(client)), null));
                break;
            }
            case "workload":
            {
                var tenant = target.Field("azure_entra_tenant_id") ?? Env("AZURE_TENANT_ID") ?? throw new ArgumentException("azure_auth_mode workload needs AZURE_TENANT_ID");
                var client = target.Field("azure_workload_client_id") ?? Env("AZURE_CLIENT_ID") ?? throw new ArgumentException("azure_auth_mode workload needs AZURE_CLIENT_ID or azure_workload_client_id");
                var file = Env("AZURE_FEDERATED_TOKEN_FILE") ?? throw new ArgumentException("azure_auth_mode workload needs AZURE_FEDERATED_TOKEN_FILE");
                key = Key(mode, tenant, client, file, authority);
                create = () => new WorkloadIdentityCredential(Options(
                    new WorkloadIdentityCredentialOptions
                    {
                        TenantId = tenant, ClientId = client, TokenFilePath = file, DisableInstanceDiscovery = IsPrivateAuthority(authority),
                    }, authority));
                break;
            }
            default:
                throw new ArgumentException($"azure_auth_mode '{mode}' is not one of entra, managed, workload");
        }

        var cached = _credentials.GetOrAdd(key + "\n" + scope, _ => new CachedCredential(create(), scope));
        try
        {
            return await cached.GetAsync(this, ct).ConfigureAwait(false);
        }
        catch (CredentialUnavailableException ex)
        {
            throw new GatewayErrorException(new GatewayError(ErrorCategory.UpstreamUnreachable,
                $"No Microsoft Entra credential for azure-openai ({mode}): {FirstLine(ex.Message)}") { Provider = target.Provider.Slug });
        }
        catch (AuthenticationFailedException ex)
        {
            throw new GatewayErrorException(new GatewayError(ErrorCategory.UpstreamUnreachable,
                $"Could not get a Microsoft Entra token for azure-openai ({mode}): {FirstLine(ex.Message)}") { Provider = target.Provider.Slug });
        }
    }

    /// <summary>Microsoft's public and sovereign cloud authority hosts, which MSAL validates through instance discovery.</summary>
    private static readonly HashSet<string> CloudAuthorityHosts = new(StringComparer.OrdinalIgnoreCase)
    {
        "login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "login.microsoftonline.us", "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn", "login.microsoftonline.de", "login.usgovcloudapi.net", "login-us.microsoftonline.com",
    };

    /// <summary>
    /// True for an authority host that is not one of Microsoft's clouds (Azure Stack, a private authority, a test): MSAL would
    /// otherwise ask login.microsoft.com to validate it (instance discovery), which such deployments often cannot reach.
    /// </summary>
    internal static bool IsPrivateAuthority(string? authority) =>
        authority is not null && Uri.TryCreate(authority, UriKind.Absolute, out var uri) && !CloudAuthorityHosts.Contains(uri.Host);

    private string? Env(string name) => _environment(name) is { Length: > 0 } v ? v : null;

    private T Options<T>(T options, string? authority)
        where T : TokenCredentialOptions
    {
        if (authority is not null)
        {
            options.AuthorityHost = new Uri(authority);
        }
        options.Transport = Transport();
        options.Retry.MaxRetries = 1;
        options.Retry.Delay = TimeSpan.FromMilliseconds(100);
        return options;
    }

    private HttpPipelineTransport Transport()
    {
        if (_transport is { } existing)
        {
            return existing;
        }
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, ConnectTimeout = TimeSpan.FromSeconds(10) };
        _trust?.ApplyTo(handler);
        var created = new HttpClientTransport(new HttpClient(handler));
        return Interlocked.CompareExchange(ref _transport, created, null) ?? created;
    }

    private static string Key(params string?[] parts) => string.Join('\n', parts);

    private static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();

    private sealed class CachedCredential(TokenCredential credential, string scope)
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private AccessToken? _token;

        public async ValueTask<string> GetAsync(AzureTokenSource owner, CancellationToken ct)
        {
            if (_token is { } fresh && fresh.ExpiresOn - RefreshMargin > owner._time.GetUtcNow())
            {
                return fresh.Token;
            }
            await _gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                if (_token is { } again && again.ExpiresOn - RefreshMargin > owner._time.GetUtcNow())
                {
                    return again.Token;
                }
                var token = await credential.GetTokenAsync(new TokenRequestContext([scope]), ct).ConfigureAwait(false);
                Interlocked.Increment(ref owner._issued);
                _token = token;
                return token.Token;
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
