using System.Diagnostics;
using System.Net.Http;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Redis;
using Xunit;

namespace Switchyard.Tests.Logs.Stores;

/// <summary>
/// A server from tests/node-clients (s3rver, azurite) on 127.0.0.1, a free port and a temporary data directory, stopped by
/// its PID. <see cref="StopAsync"/> and <see cref="StartAgainAsync"/> keep the port and the directory, so a test can take
/// the store away while records flow and bring it back with the objects it already held.
/// </summary>
public abstract class NodeServerProcess : IAsyncLifetime, IAsyncDisposable
{
    private Process? _process;
    private readonly List<string> _output = [];
    private int _lines;

    protected NodeServerProcess(string name)
    {
        Name = name;
        Port = RedisServer.FreePort();
        DataDirectory = Directory.CreateTempSubdirectory($"switchyard-{name}-").FullName;
    }

    /// <summary>Which server this is, for messages.</summary>
    public string Name { get; }

    public int Port { get; }

    /// <summary>Where the server keeps its objects; survives <see cref="StopAsync"/>.</summary>
    public string DataDirectory { get; }

    /// <summary>PID of the running server (for SIGSTOP/SIGCONT from a test).</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException($"{Name} is not running");

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The server's recent console output, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output.TakeLast(40));
            }
        }
    }

    /// <summary>The script under tests/node-clients/node_modules to run with node, and its arguments.</summary>
    protected abstract (string Script, IReadOnlyList<string> Arguments) Command();

    /// <summary>Extra environment for the server process.</summary>
    protected virtual IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>();

    /// <summary>True once the server answers HTTP at all (any status).</summary>
    protected virtual string ProbePath => "/";

    public Task InitializeAsync() => StartAgainAsync();

    /// <summary>Starts the server (again) on <see cref="Port"/> with <see cref="DataDirectory"/>, and waits until it answers HTTP.</summary>
    public async Task StartAgainAsync()
    {
        if (IsRunning)
        {
            return;
        }
        var (script, arguments) = Command();
        var path = Path.Combine(NodeClients.Directory, script);
        Assert.True(File.Exists(path), $"{path} is missing: the test command runs `npm ci` in tests/node-clients first (see ./test.sh)");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = DataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(path);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in Environment)
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{Name} did not start (is node installed? test.sh installs it)");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var _ = await http.GetAsync($"http://127.0.0.1:{Port}{ProbePath}");
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"{Name} exited with code {process.ExitCode}:\n{Output}");
                }
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"{Name} did not answer on 127.0.0.1:{Port} within 60 s:\n{Output}");
                }
                await Task.Delay(50);
            }
        }
    }

    /// <summary>
    /// Stops the server the way an operator would (SIGTERM by PID), so it saves what it acknowledged, then waits until
    /// it has exited or says it has closed (azurite closes its port and databases on SIGTERM but keeps running), and
    /// kills it if it is still there after 10 s. Port and data stay for <see cref="StartAgainAsync"/>.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is not { } process)
        {
            return;
        }
        if (!process.HasExited)
        {
            int mark;
            lock (_output)
            {
                mark = _lines;
            }
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill!.WaitForExitAsync();
            }
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!process.HasExited && DateTime.UtcNow < deadline && !ClosedSince(mark))
            {
                await Task.Delay(50);
            }
        }
        await KillAsync();
    }

    /// <summary>Kills the server by its PID with SIGKILL, as a crash would; port and data stay. Azurite saves its blob index every 5 s, so blobs written just before may be lost.</summary>
    public async Task KillAsync()
    {
        if (_process is not { } process)
        {
            return;
        }
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        process.Dispose();
        _process = null;
    }

    /// <summary>The line a server prints once it has closed after SIGTERM without exiting, or null if it exits.</summary>
    protected virtual string? ClosedMessage => null;

    private bool ClosedSince(int mark)
    {
        if (ClosedMessage is not { } message)
        {
            return false;
        }
        lock (_output)
        {
            var newLines = Math.Min(_lines - mark, _output.Count);
            return _output.Skip(_output.Count - newLines).Any(l => l.Contains(message, StringComparison.Ordinal));
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _lines++;
            _output.Add(line);
            if (_output.Count > 200)
            {
                _output.RemoveRange(0, 100);
            }
        }
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    /// <summary>Stops the server and deletes its data directory.</summary>
    public async Task DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
