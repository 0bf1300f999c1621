using System.Diagnostics;
using System.Text;
using Xunit;

namespace Switchyard.Tests.Infrastructure;

/// <summary>
/// The real npm MCP servers of tests/mcp-fixtures (installed by the test command with <c>npm ci</c>), started on 127.0.0.1
/// port 0 and stopped by PID. HTTP fixtures are preloaded with loopback.cjs, which binds them to loopback and prints the port.
/// </summary>
public static class McpFixtures
{
    public static string Directory { get; } = Path.Combine(RepoPaths.Root, "tests", "mcp-fixtures");

    public static string Modules => Path.Combine(Directory, "node_modules");

    /// <summary>server-everything's entry point (argument: <c>stdio</c>, <c>sse</c> or <c>streamableHttp</c>).</summary>
    public static string Everything => Path.Combine(Modules, "@modelcontextprotocol", "server-everything", "dist", "index.js");

    /// <summary>server-memory's entry point (stdio; <c>MEMORY_FILE_PATH</c> names its store).</summary>
    public static string Memory => Path.Combine(Modules, "@modelcontextprotocol", "server-memory", "dist", "index.js");

    /// <summary>server-filesystem's entry point (stdio; arguments are the allowed directories).</summary>
    public static string Filesystem => Path.Combine(Modules, "@modelcontextprotocol", "server-filesystem", "dist", "index.js");

    /// <summary>Node 22 from npm (the conformance suite and Inspector 2.x need it); the system node is 20.</summary>
    public static string Node22 => Path.Combine(Modules, "node", "bin", "node");

    /// <summary>
    /// How every MCP fixture, client and the conformance suite are started: in <paramref name="directory"/>, output redirected, with a
    /// scrubbed environment (PATH, HOME=the temp directory, then <paramref name="environment"/>) so nothing of the test host leaks in.
    /// </summary>
    public static ProcessStartInfo ScrubbedStart(string command, IEnumerable<string> arguments, string directory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(command)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment.Clear();
        start.Environment["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        start.Environment["HOME"] = Path.GetTempPath();
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        return start;
    }

    public static void RequireInstalled() =>
        Assert.True(File.Exists(Everything), "tests/mcp-fixtures/node_modules missing: the test command runs `npm ci` there first (see ./test.sh)");

    /// <summary>Starts server-everything over Streamable HTTP (endpoint <c>/mcp</c>, sessions, 2025-11-25).</summary>
    public static Task<McpFixtureProcess> StartEverythingHttpAsync() => McpFixtureProcess.StartAsync("node", ["-r", "./loopback.cjs", Everything, "streamableHttp"]);

    /// <summary>Starts server-everything over HTTP+SSE (GET <c>/sse</c>, POST <c>/message</c>, 2024-11-05).</summary>
    public static Task<McpFixtureProcess> StartEverythingSseAsync() => McpFixtureProcess.StartAsync("node", ["-r", "./loopback.cjs", Everything, "sse"]);
}

/// <summary>One fixture process: its port, its output (for failure messages), stopped by PID on dispose.</summary>
public sealed class McpFixtureProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private McpFixtureProcess(Process process) => _process = process;

    public int Port { get; private set; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the process wrote so far (stdout and stderr).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public Uri BaseUrl => new($"http://127.0.0.1:{Port}");

    /// <summary>
    /// Starts <paramref name="command"/> in tests/mcp-fixtures with a scrubbed environment (PATH, HOME and <paramref name="environment"/>
    /// only) and waits up to 30 s for <c>FIXTURE_PORT=</c> on its output (printed by loopback.cjs, or by our own fixture scripts).
    /// </summary>
    public static async Task<McpFixtureProcess> StartAsync(string command, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        McpFixtures.RequireInstalled();
        var env = new Dictionary<string, string> { ["PORT"] = "0" };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            env[name] = value;
        }
        var start = McpFixtures.ScrubbedStart(command, arguments, McpFixtures.Directory, env);
        var process = Process.Start(start)!;
        var fixture = new McpFixtureProcess(process);
        var port = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Line(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (fixture._output)
            {
                fixture._output.AppendLine(line);
            }
            if (line.StartsWith("FIXTURE_PORT=", StringComparison.Ordinal) && int.TryParse(line.AsSpan("FIXTURE_PORT=".Length), out var p))
            {
                port.TrySetResult(p);
            }
        }
        process.OutputDataReceived += (_, e) => Line(e.Data);
        process.ErrorDataReceived += (_, e) => Line(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var done = await Task.WhenAny(port.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30)));
        if (done != port.Task)
        {
            await fixture.DisposeAsync();
            throw new InvalidOperationException($"MCP fixture `{command} {string.Join(' ', arguments)}` did not report its port:\n{fixture.Output}");
        }
        fixture.Port = await port.Task;
        return fixture;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (TimeoutException)
        {
        }
        _process.Dispose();
    }
}
