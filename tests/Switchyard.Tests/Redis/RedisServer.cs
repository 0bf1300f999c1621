using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Switchyard.Tests.Redis;

/// <summary>A real redis-server (Debian package, installed by test.sh) on 127.0.0.1 and a free port, stopped by PID and restartable on the same port.</summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly string _dir;
    private readonly string[] _args;
    private Process? _process;

    private RedisServer(int port, string dir, string[] args)
    {
        Port = port;
        _dir = dir;
        _args = args;
    }

    /// <summary>The port clients connect to (the TLS port for a TLS server).</summary>
    public int Port { get; }

    /// <summary>The server's working directory (cluster nodes.conf lives here).</summary>
    public string Directory => _dir;

    /// <summary>PID of the running redis-server (for signals such as SIGSTOP/SIGCONT sent by a test).</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("redis-server is not running");

    public static Task<RedisServer> StartAsync(params string[] extraArgs)
    {
        var port = FreePort();
        return StartAsync(port, ["--port", Text(port), .. extraArgs]);
    }

    /// <summary>A server that only speaks TLS, on <see cref="Port"/>, with the given PEM certificate, key and CA.</summary>
    public static Task<RedisServer> StartTlsAsync(string certFile, string keyFile, string caFile)
    {
        var port = FreePort();
        return StartAsync(port, ["--port", "0", "--tls-port", Text(port), "--tls-cert-file", certFile, "--tls-key-file", keyFile,
            "--tls-ca-cert-file", caFile, "--tls-auth-clients", "no"]);
    }

    private static async Task<RedisServer> StartAsync(int port, string[] args)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("switchyard-redis-").FullName;
        var server = new RedisServer(port, dir, ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, .. args]);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server again with the same arguments on the same port (after <see cref="StopAsync"/>).</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir,
        };
        foreach (var arg in _args)
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start (is it installed? test.sh installs it)");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(20);
            }
        }
    }

    /// <summary>Kills the server process by its PID; connected clients see their connections drop.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
            process.Dispose();
            _process = null;
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Text(int number) => number.ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
