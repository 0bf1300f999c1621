using System.Net;
using Switchyard.Core.Providers.Azure;
using Switchyard.Simulators.Azure;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Providers.Azure;

/// <summary>
/// Entra auth modes against the simulator over HTTPS (a CA made by the test, trusted through UPSTREAM_CA_FILE): the gateway
/// gets a token from the simulated Entra / managed identity endpoint once and sends it as the data plane's bearer token.
/// </summary>
public sealed class AzureEntraAuthTests : IAsyncLifetime
{
    private TestCertificateAuthority _ca = null!;
    private AzureOpenAiSimulator _sim = null!;

    public async Task InitializeAsync()
    {
        _ca = TestCertificateAuthority.Create();
        _sim = await AzureOpenAiSimulator.StartAsync("not-used-key", _ca.Server);
    }

    public async Task DisposeAsync()
    {
        await _sim.DisposeAsync();
        _ca.Dispose();
    }

    internal static Task<TestGateway> Gateway(AzureOpenAiSimulator sim, TestCertificateAuthority ca, IReadOnlyDictionary<string, string>? env = null, TimeProvider? time = null) =>
        TestGateway.StartAsync(null, s => s with
        {
            Upstream = s.Upstream with
            {
                BaseUrls = new Dictionary<string, string> { ["azure-openai"] = sim.BaseTemplate },
                CaFile = ca.CaPemFile,
            },
        }, env, time: time);

    internal static string Config(string auth) =>
        $"{{\"provider\":\"azure-openai\",\"resource_name\":\"myres\",\"deployment_id\":\"gpt-4o\",\"api_version\":\"2024-10-21\",{auth}}}";

    [Fact]
    public async Task Entra_client_secret_gets_one_token_for_two_requests_and_sends_it_as_bearer()
    {
        _sim.Identity.ClientSecrets["app-1"] = "s3cret";
        await using var gw = await Gateway(_sim, _ca);
        var config = Config($"\"azure_auth_mode\":\"entra\",\"azure_entra_tenant_id\":\"tenant-a\",\"azure_entra_client_id\":\"app-1\",\"azure_entra_client_secret\":\"s3cret\",\"azure_authority_host\":\"{_sim.Root}\"");
        for (var i = 0; i < 2; i++)
        {
            var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("hello entra"), ("x-portkey-config", config)));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("echo: hello entra", (await r.JsonAsync()).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        }
        var token = Assert.Single(_sim.Identity.Issued);
        // A private authority host: no instance discovery, MSAL goes straight to the tenant's token endpoint.
        Assert.Equal(["POST /tenant-a/oauth2/v2.0/token"], _sim.Identity.Requests.Select(q => q.Method + " " + q.Path).ToArray());
        var tokenRequest = _sim.Identity.Requests[^1];
        Assert.Contains("grant_type=client_credentials", tokenRequest.Body);
        Assert.Contains("client_id=app-1", tokenRequest.Body);
        Assert.Contains("client_secret=s3cret", tokenRequest.Body);
        Assert.Contains("scope=https%3A%2F%2Fcognitiveservices.azure.com%2F.default", tokenRequest.Body);
        Assert.Equal(2, _sim.Requests.Count);
        Assert.All(_sim.Requests, q =>
        {
            Assert.Equal("Bearer " + token, q.Headers["Authorization"]);
            Assert.False(q.Headers.ContainsKey("api-key"));
        });
    }

    [Fact]
    public async Task Https_upstream_is_trusted_only_through_upstream_ca_file()
    {
        _sim.AcceptedTokens["given-token"] = true;
        var config = Config("\"azure_ad_token\":\"given-token\"");
        await using (var untrusting = await TestGateway.StartAsync(null, s => s with { Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["azure-openai"] = _sim.BaseTemplate } } }))
        {
            var refused = await untrusting.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", config)));
            Assert.False(refused.IsSuccessStatusCode);
            Assert.Empty(_sim.Requests);
        }
        await using var gw = await Gateway(_sim, _ca);
        var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", config)));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("Bearer given-token", Assert.Single(_sim.Requests).Headers["Authorization"]);
    }

    [Fact]
    public void Instance_discovery_is_skipped_only_for_authority_hosts_outside_microsofts_clouds()
    {
        Assert.True(global::Switchyard.Core.Providers.Azure.AzureTokenSource.IsPrivateAuthority("https://127.0.0.1:4443/"));
        Assert.True(global::Switchyard.Core.Providers.Azure.AzureTokenSource.IsPrivateAuthority("https://adfs.contoso.local/"));
        Assert.False(global::Switchyard.Core.Providers.Azure.AzureTokenSource.IsPrivateAuthority("https://login.microsoftonline.us/"));
        Assert.False(global::Switchyard.Core.Providers.Azure.AzureTokenSource.IsPrivateAuthority(null));
    }

    [Fact]
    public async Task Entra_token_about_to_expire_is_not_reused()
    {
        _sim.Identity.ClientSecrets["app-2"] = "pw";
        _sim.Identity.ExpiresIn = 120;
        await using var gw = await Gateway(_sim, _ca);
        var config = Config($"\"azure_auth_mode\":\"entra\",\"azure_entra_tenant_id\":\"t\",\"azure_entra_client_id\":\"app-2\",\"azure_entra_client_secret\":\"pw\",\"azure_authority_host\":\"{_sim.Root}\"");
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", config)))).StatusCode);
        }
        // Two minutes of life is inside the five-minute refresh margin: each request needs a new token.
        Assert.Equal(2, _sim.Identity.Issued.Count);
        Assert.Equal(_sim.Identity.Issued.Select(t => "Bearer " + t).ToArray(), _sim.Requests.Select(q => q.Headers["Authorization"]).ToArray());
    }

    [Fact]
    public async Task Entra_wrong_secret_is_an_error_and_nothing_reaches_the_data_plane()
    {
        _sim.Identity.ClientSecrets["app-1"] = "s3cret";
        await using var gw = await Gateway(_sim, _ca);
        var config = Config($"\"azure_auth_mode\":\"entra\",\"azure_entra_tenant_id\":\"tenant-a\",\"azure_entra_client_id\":\"app-1\",\"azure_entra_client_secret\":\"wrong\",\"azure_authority_host\":\"{_sim.Root}\"");
        var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", config)));
        var json = await r.JsonAsync();
        Assert.True(r.StatusCode == HttpStatusCode.BadGateway, $"{(int)r.StatusCode} {json}");
        Assert.Contains("Could not get a Microsoft Entra token for azure-openai (entra)", json.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("azure-openai", json.GetProperty("provider").GetString());
        Assert.Equal("/tenant-a/oauth2/v2.0/token", _sim.Identity.Requests[^1].Path);
        Assert.Empty(_sim.Identity.Issued);
        Assert.Empty(_sim.Requests);
    }

    [Fact]
    public async Task Workload_identity_sends_the_federated_token_file_as_client_assertion()
    {
        var file = Path.Combine(Path.GetTempPath(), "switchyard-federated-" + Guid.NewGuid().ToString("N"));
        var federated = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpnYXRld2F5In0.c2ln";
        await File.WriteAllTextAsync(file, federated);
        try
        {
            _sim.Identity.FederatedTokens["wl-client"] = federated;
            await using var gw = await Gateway(_sim, _ca, new Dictionary<string, string>
            {
                ["AZURE_TENANT_ID"] = "tenant-w", ["AZURE_CLIENT_ID"] = "wl-client", ["AZURE_FEDERATED_TOKEN_FILE"] = file, ["AZURE_AUTHORITY_HOST"] = _sim.Root,
            });
            for (var i = 0; i < 2; i++)
            {
                var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", Config("\"azure_auth_mode\":\"workload\""))));
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            }
            var token = Assert.Single(_sim.Identity.Issued);
            var tokenRequest = Assert.Single(_sim.Identity.Requests, q => q.Path.EndsWith("/oauth2/v2.0/token", StringComparison.Ordinal));
            Assert.Equal("/tenant-w/oauth2/v2.0/token", tokenRequest.Path);
            Assert.Contains("client_assertion=" + Uri.EscapeDataString(federated), tokenRequest.Body);
            Assert.Contains("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer", tokenRequest.Body);
            Assert.DoesNotContain("client_secret", tokenRequest.Body);
            Assert.All(_sim.Requests, q => Assert.Equal("Bearer " + token, q.Headers["Authorization"]));
            Assert.Equal(2, _sim.Requests.Count);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The token cache decides freshness on the engine's clock, not the machine's.</summary>
    [Fact]
    public async Task An_entra_token_is_refreshed_when_the_engine_clock_reaches_the_refresh_margin()
    {
        _sim.Identity.ClientSecrets["app-clock"] = "pw";
        _sim.Identity.ExpiresIn = 3600;
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var gw = await Gateway(_sim, _ca, time: clock);
        var config = Config($"\"azure_auth_mode\":\"entra\",\"azure_entra_tenant_id\":\"t\",\"azure_entra_client_id\":\"app-clock\",\"azure_entra_client_secret\":\"pw\",\"azure_authority_host\":\"{_sim.Root}\"");
        Assert.True(gw.Engine.Providers.TryGetProvider("azure-openai", out var azure));
        var tokens = ((AzureOpenAiAdapter)gw.Engine.Providers.AdapterFor(azure)!).Tokens;

        async Task AskAsync() => Assert.Equal(HttpStatusCode.OK,
            (await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", config)))).StatusCode);

        await AskAsync();
        Assert.Equal(1, tokens.TokensIssued);
        // 30 minutes on: the hour-long token is still well inside its life.
        clock.Advance(TimeSpan.FromMinutes(30));
        await AskAsync();
        Assert.Equal(1, tokens.TokensIssued);
        // 56 minutes on: inside the five-minute refresh margin on the engine's clock (the machine's clock has barely moved).
        clock.Advance(TimeSpan.FromMinutes(26));
        await AskAsync();
        Assert.Equal(2, tokens.TokensIssued);
        Assert.Equal(3, _sim.Requests.Count);
    }
}

/// <summary>Tests that set process environment variables Azure.Identity reads itself; never run in parallel with each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "Process environment (Azure managed identity)";
}

/// <summary>Managed identity through an App Service style endpoint (IDENTITY_ENDPOINT / IDENTITY_HEADER in the process environment).</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class AzureManagedIdentityTests
{
    private static readonly string[] Variables = ["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT"];

    /// <summary>Runs <paramref name="body"/> with an App Service identity endpoint on the simulator in the process environment, restored afterwards.</summary>
    private static async Task WithAppServiceIdentity(AzureOpenAiSimulator sim, Func<Task> body)
    {
        var saved = Variables.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var name in Variables)
            {
                Environment.SetEnvironmentVariable(name, null);
            }
            Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", sim.Root + "msi/token");
            Environment.SetEnvironmentVariable("IDENTITY_HEADER", sim.Identity.IdentityHeader);
            await body();
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }

    [Theory]
    [InlineData("mi-client-1")]
    [InlineData(null)]
    public async Task Managed_identity_app_service_endpoint_token_is_fetched_once_and_sent_as_bearer(string? clientId)
    {
        using var ca = TestCertificateAuthority.Create();
        await using var sim = await AzureOpenAiSimulator.StartAsync("not-used-key", ca.Server);
        await WithAppServiceIdentity(sim, async () =>
        {
            await using var gw = await AzureEntraAuthTests.Gateway(sim, ca);
            var config = AzureEntraAuthTests.Config("\"azure_auth_mode\":\"managed\"" + (clientId is null ? "" : $",\"azure_managed_client_id\":\"{clientId}\""));
            for (var i = 0; i < 2; i++)
            {
                var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", config)));
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            }
            var token = Assert.Single(sim.Identity.Issued);
            var msi = Assert.Single(sim.Identity.Requests);
            Assert.Equal("GET", msi.Method);
            Assert.Equal("/msi/token", msi.Path);
            var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(msi.Query);
            Assert.Equal("2019-08-01", query["api-version"].ToString());
            Assert.Equal("https://cognitiveservices.azure.com", query["resource"].ToString());
            Assert.Equal(clientId ?? "", query.TryGetValue("client_id", out var c) ? c.ToString() : "");
            Assert.Equal(sim.Identity.IdentityHeader, msi.Headers["X-IDENTITY-HEADER"]);
            Assert.Equal(2, sim.Requests.Count);
            Assert.All(sim.Requests, q => Assert.Equal("Bearer " + token, q.Headers["Authorization"]));
        });
    }
}
