using System.Net;
using Switchyard.Core.Providers.Azure;
using Switchyard.Simulators.Azure;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Providers.Azure;

/// <summary>The Entra token cache decides freshness on the engine's clock, not the machine's.</summary>
public sealed class AzureTokenClockTests : IAsyncLifetime
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

    [Fact]
    public async Task An_entra_token_is_refreshed_when_the_engine_clock_reaches_the_refresh_margin()
    {
        _sim.Identity.ClientSecrets["app-clock"] = "pw";
        _sim.Identity.ExpiresIn = 3600;
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var gw = await AzureEntraAuthTests.Gateway(_sim, _ca, time: clock);
        var config = AzureEntraAuthTests.Config($"\"azure_auth_mode\":\"entra\",\"azure_entra_tenant_id\":\"t\",\"azure_entra_client_id\":\"app-clock\",\"azure_entra_client_secret\":\"pw\",\"azure_authority_host\":\"{_sim.Root}\"");
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
