using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Core.Configs;
using Switchyard.Core.Providers;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Configs;

/// <summary>
/// <c>CONFIG_DIR</c> as Kubernetes mounts a ConfigMap: every file is a symlink <c>name.json -&gt; ..data/name.json</c>,
/// <c>..data</c> is a symlink to a timestamped directory, and an update swaps <c>..data</c> atomically. The files the
/// gateway reads never change in place, so the reload must follow the swap.
/// </summary>
public sealed class ConfigMapSwapTests
{
    /// <summary>A ConfigMap volume in a temp directory, updated the way the kubelet's atomic writer does it.</summary>
    private sealed class ConfigMapVolume : IDisposable
    {
        private int _version;

        public ConfigMapVolume(IReadOnlyDictionary<string, string> files)
        {
            Directory = System.IO.Directory.CreateTempSubdirectory("switchyard-configmap-").FullName;
            var first = WriteVersion(files);
            File.CreateSymbolicLink(Path.Combine(Directory, "..data"), first);
            foreach (var name in files.Keys)
            {
                File.CreateSymbolicLink(Path.Combine(Directory, name), Path.Combine("..data", name));
            }
            Current = files;
        }

        public string Directory { get; }

        private IReadOnlyDictionary<string, string> Current { get; set; }

        /// <summary>Writes a new timestamped directory; returns its name (relative, as the kubelet links it).</summary>
        private string WriteVersion(IReadOnlyDictionary<string, string> files)
        {
            var name = $"..2026_12_07_10_{++_version:00}_00.{_version:000000000}";
            var dir = System.IO.Directory.CreateDirectory(Path.Combine(Directory, name)).FullName;
            foreach (var (file, text) in files)
            {
                File.WriteAllText(Path.Combine(dir, file), text);
            }
            return name;
        }

        /// <summary>
        /// The kubelet's order: new timestamped directory, <c>..data_tmp</c> symlink to it renamed over <c>..data</c>
        /// (one rename(2)), then the user-visible links added and removed, then the old directory deleted.
        /// </summary>
        public void Swap(IReadOnlyDictionary<string, string> files)
        {
            var old = new FileInfo(Path.Combine(Directory, "..data")).LinkTarget!;
            var next = WriteVersion(files);
            var tmp = Path.Combine(Directory, "..data_tmp");
            File.CreateSymbolicLink(tmp, next);
            using (var mv = Process.Start("mv", ["-T", tmp, Path.Combine(Directory, "..data")])!)
            {
                mv.WaitForExit();
                Assert.Equal(0, mv.ExitCode);
            }
            foreach (var name in files.Keys.Except(Current.Keys))
            {
                File.CreateSymbolicLink(Path.Combine(Directory, name), Path.Combine("..data", name));
            }
            foreach (var name in Current.Keys.Except(files.Keys))
            {
                File.Delete(Path.Combine(Directory, name));
            }
            System.IO.Directory.Delete(Path.Combine(Directory, old), recursive: true);
            Current = files;
        }

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static string Config(Uri upstream, string model) =>
        Requests.Target(upstream, extra: $"\"override_params\":{{\"model\":\"{model}\"}}");

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        // Generous: the event is what is waited for; the bound only keeps a broken reload from hanging the run.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"timed out waiting for {what}");
            }
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_swapped_configmap_is_served_and_a_config_it_dropped_disappears()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        using var volume = new ConfigMapVolume(new Dictionary<string, string>
        {
            ["alpha.json"] = Config(sim.BaseUrl, "alpha-v1"),
            ["beta.json"] = Config(sim.BaseUrl, "beta-v1"),
        });
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Configs = s.Configs with { Directory = volume.Directory } });

        async Task<string[]> Names()
        {
            using var health = JsonDocument.Parse(await gw.Client.GetStringAsync("/v1/health"));
            return health.RootElement.GetProperty("config_store").GetProperty("configs").EnumerateArray().Select(c => c.GetString()!).ToArray();
        }
        async Task<(HttpStatusCode Status, string? Model)> Ask(string config)
        {
            var before = sim.Requests.Count;
            var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", config)));
            await response.Content.ReadAsStringAsync();
            var model = sim.Requests.Count > before ? JsonDocument.Parse(sim.Requests[^1].Body).RootElement.GetProperty("model").GetString() : null;
            return (response.StatusCode, model);
        }

        // Only the user-visible names are configs: not ..data, ..data_tmp or the timestamped directory.
        Assert.Equal(["alpha", "beta"], await Names());
        Assert.Equal((HttpStatusCode.OK, "alpha-v1"), await Ask("alpha"));
        Assert.Equal((HttpStatusCode.OK, "beta-v1"), await Ask("beta"));
        using (var ready = JsonDocument.Parse(await gw.Client.GetStringAsync("/v1/health/ready")))
        {
            Assert.Equal("ready", ready.RootElement.GetProperty("status").GetString());
        }

        volume.Swap(new Dictionary<string, string>
        {
            ["alpha.json"] = Config(sim.BaseUrl, "alpha-v2"),
            ["gamma.json"] = Config(sim.BaseUrl, "gamma-v1"),
        });

        await WaitForAsync(async () => (await Names()).SequenceEqual(["alpha", "gamma"]), "the swapped ConfigMap to load");
        await WaitForAsync(async () => (await Ask("alpha")).Model == "alpha-v2", "alpha's new version to be served");
        Assert.Equal((HttpStatusCode.OK, "gamma-v1"), await Ask("gamma"));
        var beta = await Ask("beta");
        Assert.NotEqual(HttpStatusCode.OK, beta.Status);
        Assert.Null(beta.Model);
        using var health = JsonDocument.Parse(await gw.Client.GetStringAsync("/v1/health"));
        Assert.Equal("ok", health.RootElement.GetProperty("config_store").GetProperty("state").GetString());
    }

    [Fact]
    public async Task The_directory_watcher_alone_follows_the_swap()
    {
        // Polling off: only the watcher's events on the ..data rename can make the store reload.
        using var volume = new ConfigMapVolume(new Dictionary<string, string> { ["one.json"] = """{"provider":"openai","api_key":"k1"}""" });
        using var store = new NamedConfigStore(new ConfigStoreOptions { Directory = volume.Directory, ReloadDebounce = TimeSpan.FromMilliseconds(50) },
            new ConfigCompiler(new Switchyard.Core.Routing.RetryOptions(), ProviderRegistry.Default, Switchyard.Core.Security.CustomHostValidator.FromEnvironment(null)), _ => null, NullLogger.Instance, TimeProvider.System, pollInterval: Timeout.InfiniteTimeSpan);
        store.Start();
        Assert.Equal(["one"], store.Current.Configs.Keys.Order());
        Assert.True(store.DirectoryRead);

        volume.Swap(new Dictionary<string, string> { ["two.json"] = """{"provider":"openai","api_key":"k2"}""" });

        await WaitForAsync(() => Task.FromResult(store.Current.Configs.Keys.Order().SequenceEqual(["two"])), "the watcher to reload after the swap");
        Assert.Empty(store.Current.Problems);
    }
}
