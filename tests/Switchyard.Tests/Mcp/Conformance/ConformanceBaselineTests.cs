using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Mcp.Conformance;

/// <summary>
/// The official conformance suite against server-everything directly: proves the runner and records the baseline the gateway
/// must match (docs/mcp-conformance.md has the table).
/// </summary>
public sealed class ConformanceBaselineTests(ITestOutputHelper output)
{
    /// <summary>The scenarios server-everything 2026.8.31 passes fully on its own (mcp.md §7.5).</summary>
    public static readonly IReadOnlyList<string> BaselinePasses =
    [
        "server-initialize", "logging-set-level", "ping", "tools-list", "tools-call-simple-text", "tools-call-error",
        "server-sse-multiple-streams", "resources-list", "resources-subscribe", "resources-unsubscribe", "prompts-list",
    ];

    /// <summary>The scenario names in tests/mcp-fixtures/conformance-expected-failures.yaml (its <c>server:</c> list).</summary>
    public static IReadOnlyList<string> ExpectedFailures()
    {
        var names = new List<string>();
        var inServer = false;
        foreach (var raw in File.ReadAllLines(ConformanceRunner.GatewayExpectedFailures))
        {
            var line = raw.Split('#')[0].TrimEnd();
            if (line.Length == 0)
            {
                continue;
            }
            if (!char.IsWhiteSpace(line[0]))
            {
                inServer = line == "server:";
                continue;
            }
            if (inServer && line.TrimStart().StartsWith("- ", StringComparison.Ordinal))
            {
                names.Add(line.TrimStart()[2..].Trim());
            }
        }
        return names;
    }

    [Fact]
    public async Task ServerEverythingDirect_PassesTheBaselineScenarios_AndFailsOnlyTheRecordedOnes()
    {
        await using var everything = await McpFixtures.StartEverythingHttpAsync();
        var run = await ConformanceRunner.RunServerAsync(new Uri(everything.BaseUrl, "/mcp"));
        output.WriteLine(run.Describe());

        Assert.True(run.Scenarios.Count >= 30, $"the active suite has 30 scenarios; parsed {run.Scenarios.Count}:\n{run.Output}");
        foreach (var scenario in BaselinePasses)
        {
            var result = run[scenario];
            Assert.True(result.Passed, $"{scenario} failed directly against server-everything: {string.Join("; ", result.Failures.Select(f => f.Message))}");
        }
        // server-everything binds no Host/Origin check, so the rebinding half fails directly while the valid-host half passes.
        var rebinding = run["dns-rebinding-protection"];
        Assert.Contains(rebinding.Checks, c => c.Id == "localhost-host-rebinding-rejected" && c.Status == "FAILURE");
        Assert.Contains(rebinding.Checks, c => c.Id == "localhost-host-valid-accepted" && c.Status == "SUCCESS");
        // The suite's exit code agrees with the parsed results.
        Assert.NotEqual(0, run.ExitCode);
        // The gateway's expected-failures file lists exactly the upstream's own failures, less the one the gateway must fix.
        Assert.Equal(
            run.Failed.Where(s => s != "dns-rebinding-protection").Order(StringComparer.Ordinal),
            ExpectedFailures().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ExpectedFailuresFile_AgainstServerEverythingDirect_FlagsOnlyDnsRebindingAsUnexpected()
    {
        await using var everything = await McpFixtures.StartEverythingHttpAsync();
        var run = await ConformanceRunner.RunServerAsync(new Uri(everything.BaseUrl, "/mcp"), expectedFailuresFile: ConformanceRunner.GatewayExpectedFailures);
        output.WriteLine(run.Output);

        Assert.NotEqual(0, run.ExitCode);
        var at = run.Output.IndexOf("Unexpected failures", StringComparison.Ordinal);
        Assert.True(at >= 0, $"the suite printed no unexpected failures:\n{run.Output}");
        var unexpected = run.Output[at..];
        Assert.Contains("dns-rebinding-protection", unexpected, StringComparison.Ordinal);
        Assert.DoesNotContain("Stale baseline entries", run.Output, StringComparison.Ordinal);
        Assert.Equal(["dns-rebinding-protection"], run.Failed.Except(ExpectedFailures()));
    }

    [Fact]
    public async Task SingleScenario_Runs_AndParsesOneResult()
    {
        await using var everything = await McpFixtures.StartEverythingHttpAsync();
        var run = await ConformanceRunner.RunServerAsync(new Uri(everything.BaseUrl, "/mcp"), scenario: "tools-list", timeout: TimeSpan.FromMinutes(2));
        output.WriteLine(run.Describe());

        var only = Assert.Single(run.Scenarios);
        Assert.Equal("tools-list", only.Name);
        Assert.True(only.Passed, run.Output);
        Assert.Equal(0, run.ExitCode);
    }

    [Fact]
    public async Task ModernFixtureDirect_PassesTheCoreScenarios()
    {
        await using var modern = await McpModernFixture.StartAsync();
        var run = await ConformanceRunner.RunServerAsync(new Uri(modern.BaseUrl, "/mcp"));
        output.WriteLine(run.Describe());

        foreach (var scenario in new[] { "server-initialize", "ping", "tools-list" })
        {
            Assert.True(run[scenario].Passed, $"{scenario}: {string.Join("; ", run[scenario].Failures.Select(f => f.Message))}");
        }
    }
}
