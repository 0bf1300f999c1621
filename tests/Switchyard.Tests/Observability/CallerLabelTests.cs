using System.Net;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Gateway.Hosting;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Observability;

/// <summary>With gateway keys on, the gateway's own request, token and cost series say which key and team spent what; the key itself never shows.</summary>
public sealed class CallerLabelTests(ITestOutputHelper output)
{
    private const string Alice = "sy-alice-metrics-key";
    private const string Bob = "sy-bob-metrics-key";

    [Fact]
    public async Task Requests_and_tokens_carry_the_key_name_and_team_and_never_the_key()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var dir = Directory.CreateTempSubdirectory("switchyard-keys-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "keys.yaml"), $"""
            keys:
              - name: alice
                team: platform
                hash: {ApiKeyHash.Format(Alice)}
                scopes: [completions.write]
              - name: bob
                hash: {ApiKeyHash.Format(Bob)}
                scopes: [completions.write]
            """);
        await using var gw = await TestGateway.StartAsync(server: o => o with { Auth = new AuthOptions { Keys = true, ApiKeysPath = dir } });
        foreach (var (key, times) in new[] { (Alice, 2), (Bob, 1) })
        {
            for (var i = 0; i < times; i++)
            {
                using var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(),
                    [.. Requests.HeaderMode(sim.BaseUrl), ("x-portkey-api-key", key)]));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                await response.Content.ReadAsStringAsync();
            }
        }

        PrometheusScrape scrape;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        do
        {
            scrape = await PrometheusScrape.FetchAsync(gw.Client, new Uri(gw.BaseUrl, "/metrics"), output);
        }
        while (scrape.Sum("switchyard_requests_total") < 3 && DateTime.UtcNow < deadline && await Task.Delay(100).ContinueWith(_ => true));

        Assert.Equal(2, scrape.Sum("switchyard_requests_total", ("switchyard_api_key", "alice"), ("switchyard_team", "platform")));
        var bob = Assert.Single(scrape.Samples("switchyard_requests_total", ("switchyard_api_key", "bob")));
        Assert.Null(bob.Label("switchyard_team"));
        Assert.True(scrape.Sum("switchyard_usage_tokens_total", ("switchyard_api_key", "alice")) > 0);
        Assert.DoesNotContain(Alice, scrape.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(Bob, scrape.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_require_key_admits_a_reading_key_as_bearer_and_refuses_others_with_portkey_bodies()
    {
        const string Reader = "sy-metrics-reader-key";
        const string Writer = "sy-metrics-writer-key";
        var dir = Directory.CreateTempSubdirectory("switchyard-keys-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "keys.yaml"), $"""
            keys:
              - name: prometheus
                hash: {ApiKeyHash.Format(Reader)}
                scopes: [logs.read]
              - name: app
                hash: {ApiKeyHash.Format(Writer)}
                scopes: [completions.write]
            """);
        await using var gw = await TestGateway.StartAsync(server: o => o with
        {
            Auth = new AuthOptions { Keys = true, ApiKeysPath = dir },
            Observability = o.Observability with { MetricsRequireKey = true },
        });
        async Task<(HttpStatusCode Status, string Body)> ScrapeAsync(string? bearer)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            if (bearer is not null)
            {
                request.Headers.Add("Authorization", "Bearer " + bearer);
            }
            using var response = await gw.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        var none = await ScrapeAsync(null);
        Assert.Equal(HttpStatusCode.Unauthorized, none.Status);
        Assert.Contains("\"code\":\"03\"", none.Body, StringComparison.Ordinal);
        var writer = await ScrapeAsync(Writer);
        Assert.Equal(HttpStatusCode.Forbidden, writer.Status);
        Assert.Contains("\"code\":\"033\"", writer.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(Writer, writer.Body, StringComparison.Ordinal);
        var reader = await ScrapeAsync(Reader);
        Assert.Equal(HttpStatusCode.OK, reader.Status);
        Assert.Contains("# TYPE", reader.Body, StringComparison.Ordinal);
        // Health stays open for probes.
        using var health = await gw.Client.GetAsync("/v1/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public void Metrics_require_key_without_keys_is_refused_at_start_naming_the_setting()
    {
        var env = new Dictionary<string, string> { ["METRICS_REQUIRE_KEY"] = "true" };
        var ex = Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(n => env.GetValueOrDefault(n)));
        Assert.Contains("METRICS_REQUIRE_KEY", ex.Message, StringComparison.Ordinal);
    }
}
