using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Switchyard.Tests.Infrastructure;

namespace Switchyard.Tests.Mcp.Conformance;

/// <summary>
/// Runs the official MCP conformance suite (npm <c>@modelcontextprotocol/conformance</c> 0.1.16 in tests/mcp-fixtures) on Node 22:
/// <c>node dist/index.js server --url URL [--scenario S] -o DIR [--expected-failures FILE]</c>, bounded by a timeout and killed by
/// PID when it runs over. The results come from the output directory: one <c>server-&lt;scenario&gt;-&lt;timestamp&gt;/checks.json</c>
/// per scenario, an array of checks with <c>status</c> SUCCESS, FAILURE or WARNING and an <c>errorMessage</c>.
/// </summary>
public static partial class ConformanceRunner
{
    /// <summary>The suite's entry point.</summary>
    public static string EntryPoint => Path.Combine(McpFixtures.Modules, "@modelcontextprotocol", "conformance", "dist", "index.js");

    /// <summary>The expected-failures baseline for a gateway fronting server-everything (<c>server: [scenario, …]</c>).</summary>
    public static string GatewayExpectedFailures => Path.Combine(McpFixtures.Directory, "conformance-expected-failures.yaml");

    /// <summary>
    /// Runs the server suite (the default "active" suite, or one <paramref name="scenario"/>) against <paramref name="url"/>.
    /// Throws <see cref="TimeoutException"/> (after killing the process) when it runs past <paramref name="timeout"/> (default 5 min).
    /// </summary>
    public static async Task<ConformanceRun> RunServerAsync(Uri url, string? scenario = null, string? expectedFailuresFile = null, TimeSpan? timeout = null)
    {
        McpFixtures.RequireInstalled();
        var output = Directory.CreateTempSubdirectory("switchyard-conformance-").FullName;
        try
        {
            var arguments = new List<string> { EntryPoint, "server", "--url", url.ToString() };
            if (scenario is not null)
            {
                arguments.AddRange(["--scenario", scenario]);
            }
            if (expectedFailuresFile is not null)
            {
                arguments.AddRange(["--expected-failures", expectedFailuresFile]);
            }
            arguments.AddRange(["-o", output]);
            var start = McpFixtures.ScrubbedStart(McpFixtures.Node22, arguments, McpFixtures.Directory, new Dictionary<string, string> { ["NO_COLOR"] = "1" });
            var text = new StringBuilder();
            using var process = new Process { StartInfo = start };
            process.OutputDataReceived += (_, e) => Append(text, e.Data);
            process.ErrorDataReceived += (_, e) => Append(text, e.Data);
            process.Start();
            process.StandardInput.Close();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromMinutes(5));
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                throw new TimeoutException($"the conformance suite against {url} ran past its time limit; output so far:\n{Snapshot(text)}");
            }
            process.WaitForExit(); // flushes the redirected output
            var stdout = Snapshot(text);
            return new ConformanceRun(process.ExitCode, stdout, Parse(output, stdout));
        }
        finally
        {
            try
            {
                Directory.Delete(output, recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS's temp cleanup.
            }
        }
    }

    /// <summary>
    /// Reads each <c>server-&lt;scenario&gt;-&lt;timestamp&gt;/checks.json</c> under <paramref name="outputDirectory"/>; a scenario the
    /// suite announced on stdout (<c>=== Running scenario: x ===</c>) but wrote no checks for counts as failed.
    /// </summary>
    public static IReadOnlyList<ScenarioResult> Parse(string outputDirectory, string stdout)
    {
        var results = new Dictionary<string, ScenarioResult>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(outputDirectory, "checks.json", SearchOption.AllDirectories))
        {
            var folder = Path.GetFileName(Path.GetDirectoryName(file)!);
            var name = TimestampSuffix().Replace(folder, "");
            if (name.StartsWith("server-", StringComparison.Ordinal))
            {
                name = name["server-".Length..];
            }
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var checks = json.RootElement.EnumerateArray().Select(c => new ConformanceCheck(
                c.TryGetProperty("id", out var id) ? id.GetString() ?? "" : "",
                c.TryGetProperty("status", out var status) ? status.GetString() ?? "" : "",
                c.TryGetProperty("errorMessage", out var message) ? message.GetString() : null)).ToList();
            results[name] = new ScenarioResult(name, checks);
        }
        foreach (Match announced in Announced().Matches(stdout))
        {
            var name = announced.Groups[1].Value.Trim();
            if (!results.ContainsKey(name))
            {
                results[name] = new ScenarioResult(name, [new ConformanceCheck(name, "FAILURE", "the suite wrote no checks for this scenario (see its output)")]);
            }
        }
        return [.. results.Values.OrderBy(r => r.Name, StringComparer.Ordinal)];
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (text)
        {
            text.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    [GeneratedRegex(@"-\d{4}-\d{2}-\d{2}T[\d-]+Z$")]
    private static partial Regex TimestampSuffix();

    [GeneratedRegex(@"^=== Running scenario: (.+?) ===\s*$", RegexOptions.Multiline)]
    private static partial Regex Announced();
}

/// <summary>One run of the suite: the process's exit code, its output, and each scenario's checks.</summary>
public sealed record ConformanceRun(int ExitCode, string Output, IReadOnlyList<ScenarioResult> Scenarios)
{
    /// <summary>Scenario names whose every check passed (the suite's own rule: no FAILURE and no WARNING).</summary>
    public IReadOnlyList<string> Passed => [.. Scenarios.Where(s => s.Passed).Select(s => s.Name)];

    /// <summary>Scenario names with at least one FAILURE or WARNING check.</summary>
    public IReadOnlyList<string> Failed => [.. Scenarios.Where(s => !s.Passed).Select(s => s.Name)];

    public ScenarioResult this[string scenario] => Scenarios.SingleOrDefault(s => s.Name == scenario)
        ?? throw new KeyNotFoundException($"the conformance run has no scenario {scenario}; it ran: {string.Join(", ", Scenarios.Select(s => s.Name))}\n{Output}");

    /// <summary>A table for test output: one line per scenario, failures with their messages.</summary>
    public string Describe() => string.Join('\n', Scenarios.Select(s => s.Passed
        ? $"PASS {s.Name} ({s.Checks.Count} checks)"
        : $"FAIL {s.Name}: {string.Join("; ", s.Failures.Select(f => $"{f.Id}: {f.Message ?? f.Status}"))}"));
}

/// <summary>One scenario's checks.</summary>
public sealed record ScenarioResult(string Name, IReadOnlyList<ConformanceCheck> Checks)
{
    /// <summary>The suite's own rule (the one its <c>--expected-failures</c> check applies): no FAILURE and no WARNING check.</summary>
    public bool Passed => !Checks.Any(c => c.Status is "FAILURE" or "WARNING");

    public IReadOnlyList<ConformanceCheck> Failures => [.. Checks.Where(c => c.Status is "FAILURE" or "WARNING")];
}

/// <summary>One check of a scenario: its id, SUCCESS / FAILURE / WARNING, and the suite's message for a failure.</summary>
public sealed record ConformanceCheck(string Id, string Status, string? Message);
