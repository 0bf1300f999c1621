using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Switchyard.Tests.Infrastructure;

/// <summary>
/// One gateway as its own process (<c>dotnet Switchyard.Gateway.dll</c> from the test build), configured only by environment
/// variables, on 127.0.0.1 and a free port; stopped by its PID and restartable on the same port with the same environment.
/// </summary>
/// <remarks>
/// The test build's copy is used rather than the published one: a multi-process test needs the gateway's behaviour, not the
/// shipped packaging, and publishing would take both cores for minutes.
/// </remarks>
public sealed class GatewayProcess : IAsyncDisposable
{
    private const int KeptLines = 400;
    private readonly Dictionary<string, string> _environment;
    private readonly Queue<string> _output = new();
    private Process? _process;

    private GatewayProcess(string name, int port, Dictionary<string, string> environment)
    {
        Name = name;
        Port = port;
        _environment = environment;
        BaseUrl = new Uri($"http://127.0.0.1:{port}");
        // Many concurrent requests per test: no pooled-connection cap, and patience for a loaded two-core machine.
        Client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = BaseUrl,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    /// <summary>A label for failure messages (e.g. <c>gateway-0</c>).</summary>
    public string Name { get; }

    public int Port { get; }

    /// <summary><c>http://127.0.0.1:{port}</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>A client for this gateway (relative paths such as <c>/v1/chat/completions</c>).</summary>
    public HttpClient Client { get; }

    /// <summary>PID of the running process.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException($"{Name} is not running");

    public bool Running => _process is { HasExited: false };

    /// <summary>The last lines the process wrote to stdout and stderr, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <summary>Starts a gateway with <paramref name="environment"/> (on top of a bare one: no request log, an empty config directory) and waits until <c>/v1/health</c> answers.</summary>
    public static async Task<GatewayProcess> StartAsync(IReadOnlyDictionary<string, string> environment, string name = "gateway", TimeSpan? startTimeout = null)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["LOG_STORE"] = "none",
            ["LOG_LEVEL"] = "warn",
        };
        foreach (var (k, v) in environment)
        {
            env[k] = v;
        }
        if (!env.ContainsKey("CONFIG_DIR"))
        {
            // The repository's configs are not what these tests are about; an empty directory keeps start-up quick.
            var configs = Directory.CreateTempSubdirectory("switchyard-process-configs-").FullName;
            PublishedGateway.DeleteOnExit(configs);
            env["CONFIG_DIR"] = configs;
        }
        var gateway = new GatewayProcess(name, FreePort(), env);
        try
        {
            await gateway.RunAsync(startTimeout ?? TimeSpan.FromSeconds(90));
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the process (SIGTERM, then SIGKILL after a grace) and starts it again on the same port with the same environment.</summary>
    public async Task RestartAsync(TimeSpan? startTimeout = null)
    {
        await StopAsync();
        await RunAsync(startTimeout ?? TimeSpan.FromSeconds(90));
    }

    /// <summary>SIGTERM to the PID, then SIGKILL if it has not exited within <paramref name="grace"/> (default 20 s).</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (_process is not { } process)
        {
            return;
        }
        try
        {
            if (!process.HasExited)
            {
                using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
                {
                    await kill.WaitForExitAsync();
                }
                using var wait = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(20));
                try
                {
                    await process.WaitForExitAsync(wait.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill();
                    await process.WaitForExitAsync();
                }
            }
        }
        finally
        {
            process.Dispose();
            _process = null;
        }
    }

    /// <summary><c>GET /v1/health</c> as JSON.</summary>
    public async Task<JsonElement> HealthAsync()
    {
        using var response = await Client.GetAsync("/v1/health");
        return await response.JsonAsync();
    }

    /// <summary><c>GET /metrics</c> (Prometheus text).</summary>
    public Task<string> MetricsAsync() => Client.GetStringAsync("/metrics");

    private async Task RunAsync(TimeSpan startTimeout)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetTempPath(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Switchyard.Gateway.dll"));
        start.Environment["PORT"] = Port.ToString(CultureInfo.InvariantCulture);
        start.Environment["BIND_ADDRESS"] = "127.0.0.1";
        foreach (var (k, v) in _environment)
        {
            start.Environment[k] = v;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {process.ExitCode} during start-up:\n{Output}");
            }
            try
            {
                using var probe = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
                using var health = await probe.GetAsync("/v1/health");
                if (health.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            if (clock.Elapsed > startTimeout)
            {
                throw new TimeoutException($"{Name} did not answer /v1/health within {startTimeout.TotalSeconds} s:\n{Output}");
            }
            await Task.Delay(100);
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
            _output.Enqueue(line);
            while (_output.Count > KeptLines)
            {
                _output.Dequeue();
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (_process is { } process)
        {
            // Cleanup, not a test step: no grace needed.
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    await process.WaitForExitAsync();
                }
            }
            finally
            {
                process.Dispose();
                _process = null;
            }
        }
    }
}
