using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Mcp.Clients;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Mcp.Conformance;

/// <summary>
/// The issue's acceptance test: the official conformance suite against the gateway (<c>SERVER_MODE=mcp</c>) fronting
/// server-everything at <c>/everything/mcp</c>. The gateway must pass every scenario server-everything passes directly, plus
/// <c>dns-rebinding-protection</c> fully (it checks Host and Origin itself); the rest are the upstream's own failures, listed in
/// tests/mcp-fixtures/conformance-expected-failures.yaml.
/// </summary>
public sealed class ConformanceGatewayTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Gateway_FrontingServerEverything_PassesEveryDirectScenario_AndDnsRebindingProtection()
    {
        await using var everything = await McpFixtures.StartEverythingHttpAsync();
        var direct = await ConformanceRunner.RunServerAsync(new Uri(everything.BaseUrl, "/mcp"));
        output.WriteLine("direct:\n" + direct.Describe());

        await using var gateway = await McpGatewayHost.StartAsync(McpGatewayHost.HttpServer("everything", new Uri(everything.BaseUrl, "/mcp")));
        var run = await ConformanceRunner.RunServerAsync(gateway.Endpoint("everything"), expectedFailuresFile: ConformanceRunner.GatewayExpectedFailures);
        output.WriteLine("through the gateway:\n" + run.Describe());
        output.WriteLine(run.Output);

        foreach (var scenario in ConformanceBaselineTests.BaselinePasses.Union(direct.Passed))
        {
            var result = run[scenario];
            Assert.True(result.Passed, $"{scenario} passes directly but fails through the gateway: {string.Join("; ", result.Failures.Select(f => $"{f.Id}: {f.Message}"))}");
        }
        var rebinding = run["dns-rebinding-protection"];
        Assert.True(rebinding.Passed, $"dns-rebinding-protection: {string.Join("; ", rebinding.Failures.Select(f => $"{f.Id}: {f.Message}"))}");
        Assert.Contains(rebinding.Checks, c => c.Id == "localhost-host-rebinding-rejected" && c.Status == "SUCCESS");
        // Exit 0 with --expected-failures: no unexpected failure and no stale entry (a newly passing scenario must leave the file).
        Assert.True(run.ExitCode == 0, $"the suite's baseline check failed (exit {run.ExitCode}):\n{run.Output}");
    }
}
