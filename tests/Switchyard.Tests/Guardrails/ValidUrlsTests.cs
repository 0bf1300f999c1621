using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Switchyard.Core.Guardrails;
using Switchyard.Core.Security;
using Xunit;
using static Switchyard.Tests.Guardrails.GuardrailKit;

namespace Switchyard.Tests.Guardrails;

public sealed class ValidUrlsTests : IAsyncLifetime
{
    private const HookEvent After = HookEvent.AfterRequest;
    private LoopbackServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await LoopbackServer.StartAsync((ctx, _) =>
        {
            switch (ctx.Request.Path.Value)
            {
                case "/ok":
                    ctx.Response.StatusCode = 200;
                    break;
                case "/moved":
                    ctx.Response.StatusCode = 301;
                    ctx.Response.Headers.Location = "/ok";
                    break;
                case "/to-metadata":
                    ctx.Response.StatusCode = 302;
                    ctx.Response.Headers.Location = "http://169.254.169.254/latest/meta-data";
                    break;
                default:
                    ctx.Response.StatusCode = 404;
                    break;
            }
            return Task.CompletedTask;
        });
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task All_reachable_urls_pass_and_a_404_fails()
    {
        var check = Check("default.validUrls", "{}", After);
        var ok = await check.RunAsync(Answer($"See {_server.Url("/ok")} and {_server.Url("/moved")}."), After);
        Assert.True(ok.Verdict, ok.Data!.ToJsonString());
        Assert.Equal(2, ok.Data!["validUrls"]!.AsArray().Count);
        Assert.Contains(_server.Requests, r => r.Method == "HEAD" && r.Headers["User-Agent"] == "URLValidator/1.0");

        var bad = await check.RunAsync(Answer($"See {_server.Url("/ok")} and {_server.Url("/missing")}"), After);
        Assert.False(bad.Verdict);
        Assert.Equal(_server.Url("/missing").ToString(), Str(bad.Data!["invalidUrls"]![0]));
    }

    [Fact]
    public async Task Not_inverts_and_no_urls_fails_without_error()
    {
        var inverted = Check("default.validUrls", """{"not":true}""", After);
        Assert.True((await inverted.RunAsync(Answer($"dead link {_server.Url("/gone")}"), After)).Verdict);
        Assert.False((await inverted.RunAsync(Answer($"live link {_server.Url("/ok")}"), After)).Verdict);
        var none = await Check("default.validUrls", "{}", After).RunAsync(Answer("no links"), After);
        Assert.False(none.Verdict);
        Assert.Null(none.Error);
        Assert.NotNull((await Check("default.validUrls", "{}", After).RunAsync(Answer(""), After)).Error);
    }

    [Fact]
    public async Task Urls_refused_by_the_ssrf_rules_are_invalid_and_never_contacted()
    {
        var check = Check("default.validUrls", "{}", After);
        var outcome = await check.RunAsync(Answer("metadata: http://169.254.169.254/latest/meta-data"), After);
        Assert.False(outcome.Verdict);
        var redirected = await check.RunAsync(Answer($"hop {_server.Url("/to-metadata")}"), After);
        Assert.False(redirected.Verdict);

        // With no trusted hosts even the loopback test server is refused before any request is sent.
        var strict = Check("default.validUrls", "{}", After, Services(new CustomHostValidator([])));
        var before = _server.Requests.Count;
        Assert.False((await strict.RunAsync(Answer($"see {_server.Url("/ok")}"), After)).Verdict);
        Assert.Equal(before, _server.Requests.Count);
    }

    [Fact]
    public async Task OnlyDns_uses_the_resolver_not_http()
    {
        var services = new GuardrailServices(new HttpClient(), new CustomHostValidator(null))
        {
            ResolveHost = (host, _) => host == "good.example.com"
                ? Task.FromResult(new[] { IPAddress.Parse("93.184.216.34") })
                : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound)),
        };
        var check = Check("default.validUrls", """{"onlyDNS":true}""", After, services);
        var ok = await check.RunAsync(Answer("https://good.example.com/a"), After);
        Assert.True(ok.Verdict);
        Assert.Equal("DNS lookup", Str(ok.Data!["validationMethod"]));
        Assert.False((await check.RunAsync(Answer("https://good.example.com/a https://nx.example.com/b"), After)).Verdict);
    }
}
