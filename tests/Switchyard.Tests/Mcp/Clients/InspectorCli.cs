using System.Diagnostics;
using System.Text;
using Switchyard.Tests.Infrastructure;

namespace Switchyard.Tests.Mcp.Clients;

/// <summary>
/// The MCP Inspector CLI as a real client: 0.15 (tests/mcp-fixtures, system Node 20, 2025-era, no <c>--header</c>) and 2.12
/// (tests/mcp-fixtures/inspector2, Node 22 from npm, speaks 2026-07-28 and supports <c>--header</c>). Each run is bounded and the
/// process tree is killed by PID when it runs over.
/// </summary>
public static class InspectorCli
{
    /// <summary>Inspector 0.15's launcher.</summary>
    public static string V015 => Path.Combine(McpFixtures.Modules, "@modelcontextprotocol", "inspector", "cli", "build", "cli.js");

    /// <summary>Inspector 2.12's launcher (installed by the test command's <c>npm ci</c> in tests/mcp-fixtures/inspector2).</summary>
    public static string V2 => Path.Combine(McpFixtures.Directory, "inspector2", "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js");

    /// <summary>Runs Inspector 0.15: <c>node cli.js --cli URL --transport T ARGS…</c> (T is <c>http</c> or <c>sse</c>).</summary>
    public static Task<CliResult> RunV015Async(Uri url, string transport, params string[] arguments)
    {
        if (!File.Exists(V015))
        {
            throw new InvalidOperationException($"Inspector 0.15 missing at {V015}: the test command runs `npm ci` in tests/mcp-fixtures first");
        }
        return RunAsync("node", [V015, "--cli", url.ToString(), "--transport", transport, .. arguments], McpFixtures.Directory, null);
    }

    /// <summary>
    /// Runs Inspector 2.12 on Node 22: <c>node22 index.js --cli URL --transport T [--header "Name: value"]… ARGS…</c>, with
    /// <c>MCP_CATALOG_PATH</c> in a temporary directory so it writes nothing under HOME.
    /// </summary>
    public static async Task<CliResult> RunV2Async(Uri url, string transport, IReadOnlyList<(string Name, string Value)>? headers, params string[] arguments)
    {
        if (!File.Exists(V2))
        {
            throw new InvalidOperationException($"Inspector 2.12 missing at {V2}: the test command runs `npm ci` in tests/mcp-fixtures/inspector2 first");
        }
        var catalog = Directory.CreateTempSubdirectory("switchyard-inspector2-").FullName;
        try
        {
            List<string> argv = [V2, "--cli", url.ToString(), "--transport", transport];
            foreach (var (name, value) in headers ?? [])
            {
                argv.Add("--header");
                argv.Add($"{name}: {value}");
            }
            argv.AddRange(arguments);
            return await RunAsync(McpFixtures.Node22, argv, Path.Combine(McpFixtures.Directory, "inspector2"),
                new Dictionary<string, string> { ["MCP_CATALOG_PATH"] = Path.Combine(catalog, "catalog.json") });
        }
        finally
        {
            try
            {
                Directory.Delete(catalog, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary><c>--method tools/call --tool-name NAME --tool-arg k=v …</c>.</summary>
    public static string[] CallTool(string name, params string[] toolArguments) =>
        toolArguments.Length == 0 ? ["--method", "tools/call", "--tool-name", name] : ["--method", "tools/call", "--tool-name", name, "--tool-arg", .. toolArguments];

    /// <summary><c>--method tools/list</c>.</summary>
    public static string[] ListTools => ["--method", "tools/list"];

    private static async Task<CliResult> RunAsync(string command, IReadOnlyList<string> arguments, string directory, IReadOnlyDictionary<string, string>? environment)
    {
        var env = new Dictionary<string, string> { ["NO_COLOR"] = "1" };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            env[name] = value;
        }
        var start = McpFixtures.ScrubbedStart(command, arguments, directory, env);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            throw new TimeoutException($"`{command} {string.Join(' ', arguments)}` ran past 60 s:\n{stdout}\n{stderr}");
        }
        process.WaitForExit();
        lock (stdout)
        {
            lock (stderr)
            {
                return new CliResult(process.ExitCode, stdout.ToString(), stderr.ToString(), $"{command} {string.Join(' ', arguments)}");
            }
        }
    }
}

/// <summary>One CLI run: exit code, standard output (the Inspector prints the JSON result there) and standard error.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr, string CommandLine)
{
    /// <summary>Everything, for test output and failure messages.</summary>
    public override string ToString() => $"$ {CommandLine}\nexit {ExitCode}\n{Stdout}{(Stderr.Length > 0 ? "stderr:\n" + Stderr : "")}";

    /// <summary>The text of the first text content block of a <c>tools/call</c> result printed on stdout.</summary>
    public string FirstText()
    {
        using var json = System.Text.Json.JsonDocument.Parse(Stdout);
        return json.RootElement.GetProperty("content")[0].GetProperty("text").GetString() ?? "";
    }

    /// <summary>The tool names of a <c>tools/list</c> result printed on stdout.</summary>
    public IReadOnlyList<string> ToolNames()
    {
        using var json = System.Text.Json.JsonDocument.Parse(Stdout);
        return [.. json.RootElement.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString() ?? "")];
    }
}
