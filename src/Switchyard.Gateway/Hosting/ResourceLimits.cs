using System.Globalization;

namespace Switchyard.Gateway.Hosting;

/// <summary>
/// What the process may use, read from the kernel: the cgroup's memory limit (v2 <c>memory.max</c> or v1
/// <c>memory.limit_in_bytes</c>, the smallest along the hierarchy), its CPU quota (<c>cpu.max</c> or
/// <c>cpu.cfs_quota_us</c>/<c>cpu.cfs_period_us</c>), the open-files limit, and the GC's hard heap limit when one is set.
/// A container's limits are cgroup limits: a gateway that ignores them is killed by the kernel when it crosses them.
/// </summary>
/// <remarks>
/// Own code rather than a package: the .NET runtime reads the same files for the GC but exposes only the total, not where
/// it came from or the current usage; no maintained NuGet package reads cgroups v1 and v2 both.
/// </remarks>
public sealed class ResourceLimits
{
    /// <summary>The cgroup memory limit in bytes, or null when unlimited or not in a memory cgroup.</summary>
    public long? CgroupMemoryLimit { get; init; }

    /// <summary>The cgroup directory whose usage is read (<c>memory.current</c> or <c>memory.usage_in_bytes</c>), when limited.</summary>
    public string? CgroupMemoryDirectory { get; init; }

    /// <summary>True for cgroup v2 (unified), false for v1.</summary>
    public bool CgroupV2 { get; init; }

    /// <summary>The GC's hard heap limit (<c>DOTNET_GCHeapHardLimit</c> or the 75 % of a container limit the GC picks), or null.</summary>
    public long? GcHeapHardLimit { get; init; }

    /// <summary>CPU quota in cores (e.g. 0.5 for <c>500m</c>), or null when unlimited.</summary>
    public double? CpuLimit { get; init; }

    /// <summary>The soft limit on open files (every client and upstream connection takes one), or null when unknown.</summary>
    public long? OpenFilesLimit { get; init; }

    /// <summary>Replaces the reading of memory in use (tests drive memory pressure with it).</summary>
    public Func<long>? MemoryReader { get; init; }

    /// <summary>The memory the process may use: the cgroup limit, else the GC heap limit, else null.</summary>
    public long? MemoryLimit => CgroupMemoryLimit ?? GcHeapHardLimit;

    /// <summary>Where <see cref="MemoryLimit"/> comes from: cgroup-v2, cgroup-v1, gc-heap-hard-limit or none.</summary>
    public string MemoryLimitSource => CgroupMemoryLimit is not null ? (CgroupV2 ? "cgroup-v2" : "cgroup-v1") : GcHeapHardLimit is not null ? "gc-heap-hard-limit" : "none";

    /// <summary>Reads the limits of this process from <c>/proc</c> and <c>/sys/fs/cgroup</c>.</summary>
    public static ResourceLimits Detect() => Detect(path => File.Exists(path) ? File.ReadAllText(path) : null, GcHardLimit());

    /// <summary>Reads the limits through <paramref name="read"/> (a path to its text, null when absent): testable without a cgroup.</summary>
    public static ResourceLimits Detect(Func<string, string?> read, long? gcHeapHardLimit)
    {
        long? memory = null;
        string? memoryDir = null;
        var v2 = false;
        double? cpu = null;
        try
        {
            var cgroups = ParseProcCgroup(read("/proc/self/cgroup"));
            var mounts = ParseMountInfo(read("/proc/self/mountinfo"));
            // Memory: a v1 memory controller if there is one, else the unified (v2) hierarchy when it holds memory.
            if (FindDirectory(mounts, cgroups, "memory", v1: true) is { } v1Dir)
            {
                (memory, memoryDir) = SmallestLimit(read, v1Dir, "memory.limit_in_bytes");
            }
            else if (FindDirectory(mounts, cgroups, null, v1: false) is { } unified && (read(Path.Combine(unified.Directory, "cgroup.controllers")) ?? "").Split(' ', '\n').Contains("memory"))
            {
                (memory, memoryDir) = SmallestLimit(read, unified, "memory.max");
                v2 = true;
            }
            if (FindDirectory(mounts, cgroups, "cpu", v1: true) is { } cpuV1)
            {
                cpu = CpuV1(read, cpuV1.Directory);
            }
            else if (FindDirectory(mounts, cgroups, null, v1: false) is { } unifiedCpu)
            {
                cpu = CpuV2(read(Path.Combine(unifiedCpu.Directory, "cpu.max")));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            // Limits we cannot read are limits we do not know; the defaults still apply.
        }
        return new ResourceLimits
        {
            CgroupMemoryLimit = memory,
            CgroupMemoryDirectory = memoryDir,
            CgroupV2 = v2,
            GcHeapHardLimit = gcHeapHardLimit,
            CpuLimit = cpu,
            OpenFilesLimit = OpenFiles(read("/proc/self/limits")),
        };
    }

    /// <summary>
    /// The memory in use as the kernel counts it against the limit, minus inactive file cache it can reclaim (what
    /// Kubernetes calls the working set); the process's resident set when there is no cgroup limit.
    /// </summary>
    public long MemoryInUse()
    {
        if (MemoryReader is { } reader)
        {
            return reader();
        }
        if (CgroupMemoryDirectory is { } dir)
        {
            try
            {
                var usage = ReadLong(File.ReadAllText(Path.Combine(dir, CgroupV2 ? "memory.current" : "memory.usage_in_bytes")));
                var stat = File.ReadAllText(Path.Combine(dir, "memory.stat"));
                var inactive = StatValue(stat, CgroupV2 ? "inactive_file" : "total_inactive_file") ?? 0;
                if (usage is { } used)
                {
                    return Math.Max(0, used - inactive);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Fall back to the process's own figure.
            }
        }
        return Environment.WorkingSet;
    }

    private static long? GcHardLimit()
    {
        // The GC reports its hard limit only through its memory info: with a limit, the total available memory is the limit.
        var configured = AppContext.GetData("GCHeapHardLimit");
        var info = GC.GetGCMemoryInfo();
        if (configured is not null || Environment.GetEnvironmentVariable("DOTNET_GCHeapHardLimit") is not null
            || Environment.GetEnvironmentVariable("DOTNET_GCHeapHardLimitPercent") is not null)
        {
            return info.TotalAvailableMemoryBytes;
        }
        return null;
    }

    internal readonly record struct CgroupDir(string Directory, string MountPoint);

    /// <summary>Each line of <c>/proc/self/cgroup</c>: controllers (empty for v2) and path.</summary>
    internal static List<(string[] Controllers, string Path)> ParseProcCgroup(string? text)
    {
        var list = new List<(string[], string)>();
        foreach (var line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(':', 3);
            if (parts.Length == 3)
            {
                list.Add((parts[1].Length == 0 ? [] : parts[1].Split(','), parts[2].Trim()));
            }
        }
        return list;
    }

    /// <summary>cgroup mounts from <c>/proc/self/mountinfo</c>: root within the hierarchy, mount point, type, super options.</summary>
    internal static List<(string Root, string MountPoint, string Type, string[] Options)> ParseMountInfo(string? text)
    {
        var list = new List<(string, string, string, string[])>();
        foreach (var line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // id parent major:minor root mountpoint options [optional fields...] - fstype source superoptions
            var sep = line.IndexOf(" - ", StringComparison.Ordinal);
            if (sep < 0)
            {
                continue;
            }
            var left = line[..sep].Split(' ');
            var right = line[(sep + 3)..].Split(' ');
            if (left.Length < 5 || right.Length < 3 || (right[0] != "cgroup" && right[0] != "cgroup2"))
            {
                continue;
            }
            list.Add((Unescape(left[3]), Unescape(left[4]), right[0], right[2].Split(',')));
        }
        return list;
    }

    private static string Unescape(string s) => s.Replace("\\040", " ", StringComparison.Ordinal);

    private static CgroupDir? FindDirectory(List<(string Root, string MountPoint, string Type, string[] Options)> mounts,
        List<(string[] Controllers, string Path)> cgroups, string? controller, bool v1)
    {
        foreach (var (root, mountPoint, type, options) in mounts)
        {
            if (v1 ? type != "cgroup" || !options.Contains(controller) : type != "cgroup2")
            {
                continue;
            }
            foreach (var (controllers, path) in cgroups)
            {
                if (v1 ? controllers.Contains(controller) : controllers.Length == 0)
                {
                    // The process's path is relative to the hierarchy's root; the mount shows the hierarchy from `root`.
                    var relative = path.StartsWith(root, StringComparison.Ordinal) ? path[root.Length..] : path;
                    return new CgroupDir(mountPoint.TrimEnd('/') + "/" + relative.TrimStart('/'), mountPoint);
                }
            }
        }
        return null;
    }

    /// <summary>The smallest limit from the process's cgroup up to the mount's root (a parent's limit binds its children too).</summary>
    private static (long? Limit, string? Directory) SmallestLimit(Func<string, string?> read, CgroupDir dir, string file)
    {
        long? smallest = null;
        string? own = null;
        var current = dir.Directory.TrimEnd('/');
        var top = dir.MountPoint.TrimEnd('/');
        while (true)
        {
            if (ReadLong(read(current + "/" + file)) is { } limit && limit > 0 && limit < (1L << 62))
            {
                smallest = smallest is null ? limit : Math.Min(smallest.Value, limit);
            }
            own ??= current;
            if (current.Length <= top.Length || current.LastIndexOf('/') is var slash && slash <= 0)
            {
                break;
            }
            current = current[..slash];
        }
        return (smallest, smallest is null ? null : own);
    }

    private static double? CpuV1(Func<string, string?> read, string dir)
    {
        var quota = ReadLong(read(dir + "/cpu.cfs_quota_us"));
        var period = ReadLong(read(dir + "/cpu.cfs_period_us"));
        return quota is > 0 && period is > 0 ? (double)quota.Value / period.Value : null;
    }

    internal static double? CpuV2(string? text)
    {
        var parts = (text ?? "").Trim().Split(' ');
        return parts.Length == 2 && parts[0] != "max" && long.TryParse(parts[0], CultureInfo.InvariantCulture, out var quota)
            && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var period) && period > 0 ? (double)quota / period : null;
    }

    internal static long? OpenFiles(string? limits)
    {
        foreach (var line in (limits ?? "").Split('\n'))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length > 0 && long.TryParse(fields[0], CultureInfo.InvariantCulture, out var soft) ? soft : null;
            }
        }
        return null;
    }

    private static long? ReadLong(string? text)
    {
        var t = text?.Trim();
        return t is null or "" or "max" ? null : long.TryParse(t, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    private static long? StatValue(string stat, string key)
    {
        foreach (var line in stat.Split('\n'))
        {
            if (line.StartsWith(key, StringComparison.Ordinal) && line.Length > key.Length && line[key.Length] == ' ')
            {
                return ReadLong(line[(key.Length + 1)..]);
            }
        }
        return null;
    }
}
