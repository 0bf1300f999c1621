using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Server;

/// <summary>The gateway as a user runs it: its own process, configured by environment variables, stopped by SIGTERM.</summary>
public sealed class GatewayProcessTests
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }


    private static Process Start(int port, params (string, string)[] env)
    {
        var start = new ProcessStartInfo("dotnet", Path.Combine(AppContext.BaseDirectory, "Switchyard.Gateway.dll"))
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["BIND_ADDRESS"] = "127.0.0.1";
        foreach (var (k, v) in env)
        {
            start.Environment[k] = v;
        }
        return Process.Start(start)!;
    }

    [Fact]
    public async Task Starts_with_the_repository_configs_answers_health_logs_json_and_stops_cleanly_on_sigterm()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var port = FreePort();
        var logs = Directory.CreateTempSubdirectory("switchyard-process-logs-").FullName;
        using var process = Start(port, ("OPENAI_API_KEY", "sk-env"), ("PROVIDER_BASE_URLS", "openai=" + sim.BaseUrl), ("LOG_STORE_LOCAL_PATH", logs));
        var stdout = new List<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.Add(e.Data); } } };
        process.BeginOutputReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            JsonElement health = default;
            for (var i = 0; i < 120 && health.ValueKind == JsonValueKind.Undefined; i++)
            {
                try
                {
                    health = await (await http.GetAsync("/v1/health")).JsonAsync();
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(250);
                }
            }
            Assert.Equal("success", health.GetProperty("status").GetString());
            Assert.Equal(5, health.GetProperty("config_store").GetProperty("configs").GetArrayLength());
            Assert.Equal("ok", health.GetProperty("config_store").GetProperty("state").GetString());

            var chat = await http.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "openai-models")));
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
            Assert.Equal("Bearer sk-env", sim.Requests[0].Headers["Authorization"]);

            Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(exit.Token);
            Assert.Equal(0, process.ExitCode);
            lock (stdout)
            {
                Assert.NotEmpty(stdout);
                Assert.All(stdout, line => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(line).RootElement.ValueKind));
                Assert.Contains(stdout, l => l.Contains("Stopping: finishing in-flight requests", StringComparison.Ordinal));
            }
            // The request log was flushed before exit.
            var record = JsonDocument.Parse(Assert.Single(Directory.EnumerateFiles(logs).SelectMany(File.ReadAllLines))).RootElement;
            Assert.Equal("openai-models.json", record.GetProperty("config_name").GetString());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            Directory.Delete(logs, recursive: true);
        }
    }

    [Fact]
    public async Task A_malformed_setting_stops_start_up_with_a_message_naming_it()
    {
        using var process = Start(FreePort(), ("RETRY_MAX_ATTEMPTS", "lots"), ("LOG_STORE", "none"));
        var stderr = await process.StandardError.ReadToEndAsync();
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(exit.Token);
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("RETRY_MAX_ATTEMPTS=lots is not valid", stderr);
    }

    [Fact]
    public async Task Portkey_control_plane_settings_are_named_in_a_start_up_warning_not_ignored_silently()
    {
        var port = FreePort();
        using var process = Start(port, ("LOG_STORE", "none"), ("PORTKEY_CLIENT_AUTH", "pk-client"), ("ANALYTICS_STORE", "control_plane"));
        var lines = new List<string>();
        var warned = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.Contains("control plane", StringComparison.Ordinal))
            {
                lock (lines)
                {
                    lines.Add(line);
                }
                warned.TrySetResult();
            }
        };
        process.BeginOutputReadLine();
        try
        {
            await warned.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var warning = lines[0];
            Assert.Contains("\"Warning\"", warning);
            Assert.Contains("PORTKEY_CLIENT_AUTH", warning);
            Assert.Contains("ANALYTICS_STORE", warning);
            Assert.DoesNotContain("pk-client", warning); // names, never values
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }
}
