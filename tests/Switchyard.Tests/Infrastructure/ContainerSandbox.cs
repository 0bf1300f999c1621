using System.Diagnostics;
using System.Globalization;

namespace Switchyard.Tests.Infrastructure;

/// <summary>
/// The container image as it will run, reproduced with bubblewrap: a fresh root with the host's <c>/usr</c> and <c>/etc</c>
/// read-only (standing in for the base image's), the image's <c>/app</c> laid out by the Dockerfile's COPY lines and
/// read-only, only <c>/tmp</c> and <c>/var/tmp</c> writable (bound to host directories the test can inspect), the
/// Dockerfile's USER, WORKDIR, ENV and ENTRYPOINT. The host network is shared so the test reaches 127.0.0.1.
/// </summary>
public sealed class ContainerSandbox : IAsyncDisposable
{
    private static readonly Lazy<Task<string>> ImageRoot = new(LayOutImageAsync);

    private readonly Process _bwrap;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];

    private ContainerSandbox(Process bwrap, string tmp, string varTmp, IReadOnlyList<string> command)
    {
        _bwrap = bwrap;
        HostTmp = tmp;
        HostVarTmp = varTmp;
        Command = command;
        bwrap.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_stdout) { _stdout.Add(e.Data); } } };
        bwrap.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_stderr) { _stderr.Add(e.Data); } } };
        bwrap.BeginOutputReadLine();
        bwrap.BeginErrorReadLine();
    }

    /// <summary>The host directory mounted at <c>/tmp</c> in the sandbox.</summary>
    public string HostTmp { get; }

    /// <summary>The host directory mounted at <c>/var/tmp</c> in the sandbox.</summary>
    public string HostVarTmp { get; }

    /// <summary>The bwrap command line, for the test output.</summary>
    public IReadOnlyList<string> Command { get; }

    public Process Process => _bwrap;

    public IReadOnlyList<string> Stdout { get { lock (_stdout) { return [.. _stdout]; } } }

    public IReadOnlyList<string> Stderr { get { lock (_stderr) { return [.. _stderr]; } } }

    public static bool Available => File.Exists("/usr/bin/bwrap");

    /// <summary>
    /// Starts the image's ENTRYPOINT in the sandbox with the image's environment plus <paramref name="environment"/>
    /// (a null value removes a variable, as <c>docker run -e NAME</c> with no value would leave it out), and
    /// <paramref name="readOnlyMounts"/> (host path → sandbox path, read-only, as <c>docker run -v host:path:ro</c> would:
    /// a ConfigMap, a tool the image lacks).
    /// </summary>
    public static async Task<ContainerSandbox> StartAsync(IReadOnlyDictionary<string, string?> environment,
        IReadOnlyList<(string Host, string Sandbox)>? readOnlyMounts = null)
    {
        var dockerfile = Dockerfile.Load();
        var root = await ImageRoot.Value;
        var tmp = Directory.CreateTempSubdirectory("switchyard-sandbox-tmp-").FullName;
        var varTmp = Directory.CreateTempSubdirectory("switchyard-sandbox-vartmp-").FullName;
        var (uid, gid) = dockerfile.User;
        var args = new List<string>
        {
            "--unshare-user", "--uid", uid.ToString(CultureInfo.InvariantCulture), "--gid", gid.ToString(CultureInfo.InvariantCulture),
            // Not --die-with-parent: it ties bwrap to the thread that started it (PR_SET_PDEATHSIG), and a thread-pool
            // thread may retire mid-test. DisposeAsync stops the sandbox by process id instead.
            "--ro-bind", "/usr", "/usr",
            "--ro-bind", "/etc", "/etc",
        };
        foreach (var top in new[] { "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32" })
        {
            var info = new FileInfo(top);
            if (info.LinkTarget is { } target)
            {
                args.AddRange(["--symlink", target, top]);
            }
            else if (Directory.Exists(top))
            {
                args.AddRange(["--ro-bind", top, top]);
            }
        }
        args.AddRange(["--proc", "/proc", "--dev", "/dev"]);
        foreach (var dir in Directory.EnumerateDirectories(root))
        {
            var name = Path.GetFileName(dir);
            args.AddRange(["--ro-bind", dir, "/" + name]);
        }
        foreach (var (host, sandbox) in readOnlyMounts ?? [])
        {
            args.AddRange(["--ro-bind", host, sandbox]);
        }
        args.AddRange(["--bind", tmp, "/tmp", "--bind", varTmp, "/var/tmp"]);
        // The sandbox's own root (a tmpfs bwrap made) is read-only too: only the two binds above take writes.
        args.AddRange(["--remount-ro", "/", "--chdir", dockerfile.WorkDir, "--"]);
        args.AddRange(dockerfile.Entrypoint);

        var start = new ProcessStartInfo("/usr/bin/bwrap") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        // bwrap hands its own environment to the entrypoint: exactly the image's, plus what the test sets.
        start.Environment.Clear();
        foreach (var (k, v) in dockerfile.ContainerEnvironment())
        {
            start.Environment[k] = v;
        }
        foreach (var (k, v) in environment)
        {
            if (v is null)
            {
                start.Environment.Remove(k);
            }
            else
            {
                start.Environment[k] = v;
            }
        }
        var process = Process.Start(start)!;
        return new ContainerSandbox(process, tmp, varTmp, ["bwrap", .. args]);
    }

    /// <summary>Publishes as the Dockerfile does and lays out its COPY lines under a directory standing for the image's <c>/</c>.</summary>
    private static async Task<string> LayOutImageAsync()
    {
        var published = await PublishedGateway.DirectoryAsync();
        var root = Directory.CreateTempSubdirectory("switchyard-image-root-").FullName;
        PublishedGateway.DeleteOnExit(root);
        Dockerfile.Load().LayOut(root, published);
        return root;
    }

    /// <summary>The gateway process inside the sandbox (bwrap's descendant running the ENTRYPOINT), or null once it has exited.</summary>
    public int? GatewayPid()
    {
        var name = Path.GetFileName(Dockerfile.Load().Entrypoint[0]);
        // The kernel keeps 15 characters of a process name.
        var comm = name.Length > 15 ? name[..15] : name;
        foreach (var pid in Descendants(_bwrap.Id))
        {
            try
            {
                if (File.ReadAllText($"/proc/{pid}/comm").Trim() == comm)
                {
                    return pid;
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }
        return null;
    }

    private static List<int> Descendants(int parent)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis.
                var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                (children.TryGetValue(ppid, out var list) ? list : children[ppid] = []).Add(pid);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                // Exited while listed.
            }
        }
        var result = new List<int>();
        var queue = new Queue<int>([parent]);
        while (queue.Count > 0)
        {
            foreach (var child in children.GetValueOrDefault(queue.Dequeue()) ?? [])
            {
                result.Add(child);
                queue.Enqueue(child);
            }
        }
        return result;
    }

    /// <summary>Sends SIGTERM to the gateway (as the container runtime does to PID 1's process) and waits for bwrap's exit code.</summary>
    public async Task<int> StopAsync(TimeSpan bound)
    {
        if (GatewayPid() is { } pid)
        {
            using var kill = Process.Start("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
        }
        using var cts = new CancellationTokenSource(bound);
        await _bwrap.WaitForExitAsync(cts.Token);
        return _bwrap.ExitCode;
    }

    /// <summary>Waits for the sandbox to end by itself (a refused start-up).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan bound)
    {
        using var cts = new CancellationTokenSource(bound);
        await _bwrap.WaitForExitAsync(cts.Token);
        // Let the redirected streams reach their end.
        _bwrap.WaitForExit();
        return _bwrap.ExitCode;
    }

    /// <summary>Every file and socket written under the two writable directories, as sandbox paths.</summary>
    public IReadOnlyList<string> WrittenFiles() =>
    [
        .. List(HostTmp, "/tmp"),
        .. List(HostVarTmp, "/var/tmp"),
    ];

    private static IEnumerable<string> List(string host, string mount) =>
        Directory.EnumerateFileSystemEntries(host, "*", SearchOption.AllDirectories)
            .Where(p => !Directory.Exists(p))
            .Select(p => mount + "/" + Path.GetRelativePath(host, p))
            .Order(StringComparer.Ordinal);

    public async ValueTask DisposeAsync()
    {
        if (!_bwrap.HasExited)
        {
            // Only what this sandbox started: bwrap and its descendants, by process id.
            foreach (var pid in Descendants(_bwrap.Id))
            {
                try
                {
                    using var p = Process.GetProcessById(pid);
                    p.Kill();
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Already gone.
                }
            }
            _bwrap.Kill(entireProcessTree: true);
            await _bwrap.WaitForExitAsync();
        }
        _bwrap.Dispose();
        foreach (var dir in new[] { HostTmp, HostVarTmp })
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS's temp cleanup.
            }
        }
    }
}
