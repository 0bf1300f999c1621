using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchyard.Gateway.Hosting;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Server;

/// <summary>The gateway's limits: the cgroup files it reads, the cap it derives, and the 503s it gives at the door.</summary>
public sealed class LoadSheddingTests
{
    private static Func<string, string?> Files(Dictionary<string, string> files) => path => files.TryGetValue(path, out var text) ? text : null;

    [Fact]
    public void Reads_a_cgroup_v1_memory_limit_through_the_mount_root_and_the_smallest_limit_up_the_hierarchy()
    {
        var limits = ResourceLimits.Detect(Files(new()
        {
            ["/proc/self/cgroup"] = "9:cpu,cpuacct:/kubepods/pod1/c1\n4:memory:/kubepods/pod1/c1\n0::/\n",
            ["/proc/self/mountinfo"] =
                "30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n" +
                "31 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n" +
                "26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
            ["/sys/fs/cgroup/memory/kubepods/pod1/c1/memory.limit_in_bytes"] = "9223372036854771712\n",
            ["/sys/fs/cgroup/memory/kubepods/pod1/memory.limit_in_bytes"] = "536870912\n",
            ["/sys/fs/cgroup/memory/kubepods/memory.limit_in_bytes"] = "8589934592\n",
            ["/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1/cpu.cfs_quota_us"] = "50000\n",
            ["/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1/cpu.cfs_period_us"] = "100000\n",
            ["/proc/self/limits"] = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                20000                files\n",
        }), gcHeapHardLimit: null);

        Assert.Equal(536870912, limits.CgroupMemoryLimit);
        Assert.Equal("cgroup-v1", limits.MemoryLimitSource);
        Assert.Equal("/sys/fs/cgroup/memory/kubepods/pod1/c1", limits.CgroupMemoryDirectory);
        Assert.Equal(0.5, limits.CpuLimit);
        Assert.Equal(20000, limits.OpenFilesLimit);
    }

    [Fact]
    public void Reads_a_cgroup_v2_limit_inside_a_cgroup_namespace_and_treats_max_as_unlimited()
    {
        var files = new Dictionary<string, string>
        {
            ["/proc/self/cgroup"] = "0::/\n",
            // A container with its own cgroup namespace sees its cgroup as the root of the mount.
            ["/proc/self/mountinfo"] = "1500 1490 0:30 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
            ["/sys/fs/cgroup/cgroup.controllers"] = "cpuset cpu io memory pids\n",
            ["/sys/fs/cgroup/memory.max"] = "536870912\n",
            ["/sys/fs/cgroup/cpu.max"] = "150000 100000\n",
        };
        var limits = ResourceLimits.Detect(Files(files), gcHeapHardLimit: null);
        Assert.Equal(536870912, limits.CgroupMemoryLimit);
        Assert.Equal("cgroup-v2", limits.MemoryLimitSource);
        Assert.Equal(1.5, limits.CpuLimit);

        files["/sys/fs/cgroup/memory.max"] = "max\n";
        files["/sys/fs/cgroup/cpu.max"] = "max 100000\n";
        var unlimited = ResourceLimits.Detect(Files(files), gcHeapHardLimit: 300_000_000);
        Assert.Null(unlimited.CgroupMemoryLimit);
        Assert.Null(unlimited.CpuLimit);
        // Without a cgroup limit, a GC heap limit is what the gateway must stay under.
        Assert.Equal(300_000_000, unlimited.MemoryLimit);
        Assert.Equal("gc-heap-hard-limit", unlimited.MemoryLimitSource);
    }

    [Fact]
    public void The_automatic_cap_is_the_smaller_of_what_memory_and_open_files_allow()
    {
        var halfGig = new ResourceLimits { CgroupMemoryLimit = 512L << 20, OpenFilesLimit = 1_048_576 };
        Assert.Equal((int)((long)(((512L << 20) - LoadSheddingOptions.BaseMemory) * 0.85) / LoadSheddingOptions.BudgetPerRequest), LoadSheddingOptions.DeriveCap(halfGig));
        // 20,000 descriptors hold (20,000 - 512) / 2 requests with a client and an upstream connection each.
        Assert.Equal(9744, LoadSheddingOptions.DeriveCap(new ResourceLimits { CgroupMemoryLimit = 8L << 30, OpenFilesLimit = 20_000 }));
        Assert.Equal(0, LoadSheddingOptions.DeriveCap(new ResourceLimits()));

        Assert.Null(LoadSheddingOptions.FromEnvironment(_ => null).MaxConcurrentRequests);
        Assert.Equal(250, LoadSheddingOptions.FromEnvironment(n => n == "MAX_CONCURRENT_REQUESTS" ? "250" : null).MaxConcurrentRequests);
        var bad = Assert.Throws<FormatException>(() => LoadSheddingOptions.FromEnvironment(n => n == "MAX_CONCURRENT_REQUESTS" ? "lots" : null));
        Assert.Contains("MAX_CONCURRENT_REQUESTS", bad.Message);
        Assert.Throws<FormatException>(() => LoadSheddingOptions.FromEnvironment(n => n == "SHED_MEMORY_PERCENT" ? "120" : null));
    }

    [Fact]
    public async Task Memory_near_the_limit_refuses_new_requests_and_relief_admits_them_again()
    {
        long used = 100L << 20;
        var limits = new ResourceLimits { CgroupMemoryLimit = 512L << 20, MemoryReader = () => used };
        var time = new FakeTimeProvider();
        using var shedder = new LoadShedder(new LoadSheddingOptions { MaxConcurrentRequests = 0 }, limits, time, NullLogger<LoadShedder>.Instance);
        await shedder.StartAsync(CancellationToken.None);

        Assert.True(shedder.TryEnter(out _));
        used = 450L << 20; // past 85 % of 512 MiB
        time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.True(shedder.MemoryPressure);
        Assert.False(shedder.TryEnter(out var reason));
        Assert.Equal("memory", reason);
        // The request admitted before keeps its slot until it ends.
        Assert.Equal(1, shedder.InFlight);

        used = 420L << 20; // under the threshold but not 5 points below it: still shedding
        time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.True(shedder.MemoryPressure);
        used = 300L << 20;
        time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.False(shedder.MemoryPressure);
        Assert.True(shedder.TryEnter(out _));
        shedder.Exit();
        shedder.Exit();
        Assert.Equal(0, shedder.InFlight);
        Assert.Equal(1, shedder.ShedForMemory);
    }

    [Fact]
    public async Task Beyond_the_cap_new_requests_get_503_with_retry_after_while_open_streams_run_to_their_end()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        sim.StepMode = true;
        await using var gateway = await TestGateway.StartAsync(environment: new Dictionary<string, string> { ["MAX_CONCURRENT_REQUESTS"] = "2", ["SHED_RETRY_AFTER_SECONDS"] = "3" });
        HttpRequestMessage Chat(bool stream) => Requests.HeaderModeChat(sim.BaseUrl, stream);

        // Two streams take both slots; step mode holds them open after their first event.
        using var first = await gateway.Client.SendAsync(Chat(stream: true), HttpCompletionOption.ResponseHeadersRead);
        using var second = await gateway.Client.SendAsync(Chat(stream: true), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        using var refused = await gateway.Client.SendAsync(Chat(stream: false));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), refused.Headers.RetryAfter?.Delta);
        Assert.True(refused.Headers.ConnectionClose);
        using (var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
        {
            Assert.Equal("server_overloaded", body.RootElement.GetProperty("error").GetProperty("type").GetString());
            Assert.Contains("2 concurrent", body.RootElement.GetProperty("error").GetProperty("message").GetString());
        }
        // Health is never shed: a loaded pod is not a dead pod. It reports the cap, what is in flight and what was shed.
        using var health = await gateway.Client.GetAsync("/v1/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var limits = (await health.JsonAsync()).GetProperty("limits");
        Assert.Equal(2, limits.GetProperty("max_concurrent_requests").GetInt32());
        Assert.Equal(2, limits.GetProperty("in_flight").GetInt32());
        Assert.Equal(1, limits.GetProperty("shed_for_concurrency").GetInt32());

        // The open streams were not touched: released, both deliver every event to the end.
        sim.StepMode = false;
        foreach (var stream in new[] { first, second })
        {
            var text = await stream.Content.ReadAsStringAsync();
            Assert.EndsWith("data: [DONE]\n\n", text);
        }

        // With the slots free again, requests are admitted.
        HttpResponseMessage? admitted = null;
        for (var i = 0; i < 100 && admitted?.StatusCode != HttpStatusCode.OK; i++)
        {
            admitted = await gateway.Client.SendAsync(Chat(stream: false));
            if (admitted.StatusCode != HttpStatusCode.OK)
            {
                await Task.Delay(50); // the slot is freed when the stream's handler returns, just after its last byte
            }
        }
        Assert.Equal(HttpStatusCode.OK, admitted!.StatusCode);

        var metrics = await gateway.Client.GetStringAsync("/metrics");
        Assert.Matches("switchyard_requests_shed_total\\{[^}]*reason=\"concurrency\"[^}]*\\} 1", metrics);
    }
}
