using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Server;

/// <summary>
/// The shipped build inside a 512 MiB memory cgroup (the hardened deployment's limit), hit by 10,000 concurrent slow
/// streams: each one completes or is refused with 503 at the door; the process is never killed and no stream it accepted is cut.
/// </summary>
[Collection(PublishedGateway.Collection)]
public sealed class MemoryLimitTests(ITestOutputHelper output)
{
    private const long Limit = 512L * 1024 * 1024;
    private const int Streams = 10_000;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A memory cgroup of our own with the limit set (v1 or v2), or null where the machine does not allow one.</summary>
    private static string? CreateCgroup()
    {
        var name = "switchyard-test-" + Guid.NewGuid().ToString("N")[..8];
        foreach (var (root, file) in new[] { ("/sys/fs/cgroup/memory", "memory.limit_in_bytes"), ("/sys/fs/cgroup", "memory.max") })
        {
            try
            {
                if (!File.Exists(Path.Combine(root, file)) && !(file == "memory.max" && File.Exists(Path.Combine(root, "cgroup.controllers"))))
                {
                    continue;
                }
                var dir = Path.Combine(root, name);
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, file), Limit.ToString(CultureInfo.InvariantCulture));
                if (long.Parse(File.ReadAllText(Path.Combine(dir, file)).Trim(), CultureInfo.InvariantCulture) == Limit)
                {
                    return dir;
                }
                Directory.Delete(dir);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                // Not allowed here: try the next hierarchy, else fall back to a GC heap limit.
            }
        }
        return null;
    }

    private static long OomKills(string cgroup)
    {
        var file = File.Exists(Path.Combine(cgroup, "memory.oom_control")) ? "memory.oom_control" : "memory.events";
        foreach (var line in File.ReadAllLines(Path.Combine(cgroup, file)))
        {
            if (line.StartsWith("oom_kill ", StringComparison.Ordinal))
            {
                return long.Parse(line[9..], CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    private static Process Node(string script, params string[] args)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = NodeClients.Directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        return Process.Start(start)!;
    }

    [Fact]
    public async Task Ten_thousand_slow_streams_under_a_512_MiB_limit_complete_or_get_503_and_the_process_survives()
    {
        var executable = await PublishedGateway.ExecutableAsync();
        var upstreamPort = FreePort();
        // 10 content events one second apart: every admitted stream stays open about 11 s, while the 10,000 arrive over 10 s.
        using var upstream = Node("slow-sse.mjs", upstreamPort.ToString(CultureInfo.InvariantCulture), "10", "1000");
        Assert.StartsWith("listening", await upstream.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));

        var cgroup = CreateCgroup();
        var port = FreePort();
        var data = Directory.CreateTempSubdirectory("switchyard-memlimit-").FullName;
        var configs = Directory.CreateTempSubdirectory("switchyard-memlimit-configs-").FullName;
        var start = new ProcessStartInfo(cgroup is null ? executable : "/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (cgroup is not null)
        {
            // Join the cgroup before the runtime starts, so the GC sizes itself for the limit as it would in a container.
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add($"echo $$ > {Path.Combine(cgroup, "cgroup.procs")} && exec \"$0\"");
            start.ArgumentList.Add(executable);
        }
        else
        {
            start.Environment["DOTNET_GCHeapHardLimit"] = Limit.ToString("x", CultureInfo.InvariantCulture);
        }
        start.Environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["BIND_ADDRESS"] = "127.0.0.1";
        start.Environment["LOG_LEVEL"] = "warn";
        start.Environment["CONFIG_DIR"] = configs;
        start.Environment["DATA_PATH"] = data; // the local request log stays on, as by default
        using var gateway = Process.Start(start)!;
        var stderr = gateway.StandardError.ReadToEndAsync();
        var stdout = gateway.StandardOutput.ReadToEndAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            string? health = null;
            for (var i = 0; i < 240 && health is null && !gateway.HasExited; i++)
            {
                try
                {
                    health = await http.GetStringAsync("/v1/health");
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(250);
                }
            }
            Assert.True(health is not null, "the gateway did not start: " + (gateway.HasExited ? await stderr : ""));

            var headers = JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["x-portkey-provider"] = "openai",
                ["authorization"] = "Bearer sk-test",
                ["x-portkey-custom-host"] = $"http://127.0.0.1:{upstreamPort}/v1",
            });
            using var swarm = Node("stream-swarm.mjs", $"http://127.0.0.1:{port}/v1/chat/completions", Streams.ToString(CultureInfo.InvariantCulture), "10000", "10", headers);
            var progress = swarm.StandardError.ReadToEndAsync();
            var line = await swarm.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(5));
            var rss = File.Exists($"/proc/{gateway.Id}/status") ? File.ReadAllLines($"/proc/{gateway.Id}/status").FirstOrDefault(l => l.StartsWith("VmHWM", StringComparison.Ordinal)) : null;
            output.WriteLine($"limit: {(cgroup is null ? "DOTNET_GCHeapHardLimit" : "cgroup " + cgroup)} 512 MiB; swarm: {line}; gateway peak {rss}");
            using var result = JsonDocument.Parse(line!);
            var r = result.RootElement;
            int Count(string name) => r.GetProperty(name).GetInt32();

            if (gateway.HasExited)
            {
                Assert.Fail("the gateway died under load: " + await stderr);
            }
            if (cgroup is not null)
            {
                Assert.Equal(0, OomKills(cgroup));
            }
            Assert.Equal(0, Count("cut"));
            Assert.True(Count("failed") == 0, "streams failed other than by a 503: " + line);
            Assert.Equal(Streams, Count("completed") + Count("refused"));
            // Shedding is a last resort, not the answer to everything: most of the streams were served.
            Assert.True(Count("completed") >= Streams / 2, "fewer than half the streams were admitted: " + line);

            // Shed clients can come back: once the burst is over the gateway admits again.
            using var after = Requests.HeaderModeChat(new Uri($"http://127.0.0.1:{upstreamPort}/v1"));
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(after)).StatusCode);
        }
        finally
        {
            if (!gateway.HasExited)
            {
                gateway.Kill();
            }
            await gateway.WaitForExitAsync();
            upstream.Kill();
            await upstream.WaitForExitAsync();
            if (cgroup is not null)
            {
                try
                {
                    Directory.Delete(cgroup);
                }
                catch (IOException)
                {
                    // A cgroup is removable only once empty; the kernel frees it with its last process.
                }
            }
            Directory.Delete(data, recursive: true);
            Directory.Delete(configs, recursive: true);
        }
    }
}
