using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Switchyard.Core.Configs;

namespace Switchyard.Gateway.Mcp.Registry;

/// <summary>
/// The upstream servers from <c>MCP_SERVERS_PATH</c> (a file or a directory of <c>.json</c>/<c>.yaml</c>/<c>.yml</c> files), validated and
/// their credentials resolved on load, reloaded on change within about two seconds, each file's last good version kept.
/// </summary>
public sealed class FileMcpRegistrySource : IMcpRegistrySource, IDisposable
{
    /// <summary>The setting that names the path, for messages.</summary>
    public const string Setting = "MCP_SERVERS_PATH";

    private readonly WatchedFileStore<McpServersFileContent, McpRegistry> _files;
    private readonly Timer _secretPoll;
    private readonly ILogger _logger;
    private string _secretsFingerprint = "";

    public FileMcpRegistrySource(string path, McpServersFile.Context context, ILogger logger, TimeProvider time, TimeSpan? debounce = null, TimeSpan? pollInterval = null)
    {
        _logger = logger;
        _files = new WatchedFileStore<McpServersFileContent, McpRegistry>(path, Setting,
            (text, fileName, errors, warnings) => McpServersFile.Parse(text, fileName, context, errors, warnings), Combine,
            McpRegistry.Empty, logger, time, debounce, pollInterval);
        _files.Reloaded += snapshot =>
        {
            _secretsFingerprint = SecretsFingerprint(snapshot.ByFile.Values);
            Changed?.Invoke(snapshot.Index);
        };
        var poll = pollInterval ?? TimeSpan.FromSeconds(2);
        _secretPoll = new Timer(_ => PollSecrets(), null, poll, poll);
    }

    public string Path => _files.FullPath;

    public McpRegistry Current => _files.Current.Index;

    public McpRegistryStatus Status
    {
        get
        {
            var s = _files.Current;
            return new McpRegistryStatus
            {
                State = s.State,
                Path = _files.FullPath,
                Servers = s.Index.Servers.Count,
                VirtualServers = s.Index.VirtualServers.Count,
                Generation = s.Generation,
                LoadedAt = s.LoadedAt,
                Problems = [.. s.Problems.Select(p => $"{p.File} at {(p.Path.Length == 0 ? "(root)" : p.Path)}: {p.Message}"
                    + (p.KeptPreviousVersion ? " (the previous version keeps serving)" : " (not loaded)"))],
                Warnings = s.Warnings,
            };
        }
    }

    /// <summary>The whole snapshot (per-file contents, problems, generation): tests wait on <see cref="Changed"/> and read it.</summary>
    public WatchedFileSnapshot<McpServersFileContent, McpRegistry> Snapshot => _files.Current;

    public event Action<McpRegistry>? Changed;

    /// <summary>Loads the files and starts watching them.</summary>
    public void Start() => _files.Start();

    /// <summary>Re-reads the files now. Safe from any thread; never throws.</summary>
    public void Reload() => _files.Reload();

    private static McpRegistry Combine(IReadOnlyList<KeyValuePair<string, McpServersFileContent>> files, List<ConfigLoadProblem> problems, List<string> warnings)
    {
        var servers = new Dictionary<string, McpUpstreamServer>(StringComparer.Ordinal);
        var lowered = new Dictionary<string, McpUpstreamServer>(StringComparer.OrdinalIgnoreCase);
        foreach (var (file, content) in files)
        {
            foreach (var server in content.Servers)
            {
                if (servers.TryGetValue(server.Id, out var first))
                {
                    // Two definitions under one id would make routing depend on file order silently: the first (by file name) wins, loudly.
                    problems.Add(new ConfigLoadProblem(file, "", $"server '{server.Id}' is also defined in {first.File}; only that first definition is used", true));
                    continue;
                }
                if (lowered.TryGetValue(server.Id, out var similar))
                {
                    warnings.Add($"MCP servers file {file}: server '{server.Id}' differs only in letter case from '{similar.Id}' ({similar.File}); URLs are case-sensitive");
                }
                servers[server.Id] = server;
                lowered[server.Id] = server;
            }
        }
        var virtuals = new Dictionary<string, McpVirtualServer>(StringComparer.Ordinal);
        foreach (var (file, content) in files)
        {
            foreach (var v in content.VirtualServers)
            {
                var at = $"$.virtual_servers.{v.Name}";
                if (virtuals.TryGetValue(v.Name, out var first))
                {
                    problems.Add(new ConfigLoadProblem(file, at, $"virtual server '{v.Name}' is also defined in {first.File}; only that first definition is used", true));
                    continue;
                }
                var ok = true;
                var byName = new Dictionary<string, string>(StringComparer.Ordinal);
                for (var i = 0; i < v.Servers.Count; i++)
                {
                    var id = v.Servers[i];
                    if (!servers.TryGetValue(id, out var member))
                    {
                        problems.Add(new ConfigLoadProblem(file, $"{at}.servers[{i}]", $"virtual server '{v.Name}' names server '{McpServersFile.Printable(id)}', which no servers file defines; the virtual server is not served", false));
                        ok = false;
                        continue;
                    }
                    if (byName.TryGetValue(member.Name, out var other))
                    {
                        problems.Add(new ConfigLoadProblem(file, $"{at}.servers[{i}]", $"virtual server '{v.Name}': servers '{other}' and '{id}' have the same name '{member.Name}', so their prefixed tool names would collide; the virtual server is not served", false));
                        ok = false;
                        continue;
                    }
                    byName[member.Name] = id;
                }
                if (ok)
                {
                    virtuals[v.Name] = v;
                }
            }
        }
        return new McpRegistry
        {
            Servers = servers.ToFrozenDictionary(StringComparer.Ordinal),
            VirtualServers = virtuals.ToFrozenDictionary(StringComparer.Ordinal),
        };
    }

    /// <summary>A rotated Kubernetes secret changes the mounted file, not the servers file: its content is compared on the same poll.</summary>
    private void PollSecrets()
    {
        try
        {
            var current = _files.Current;
            if (current.ByFile.Count > 0 && SecretsFingerprint(current.ByFile.Values) != _secretsFingerprint)
            {
                _logger.LogInformation("A secret file referenced from {Setting} changed; reloading the MCP servers", Setting);
                _files.Reload();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A timer thread: a failure costs this poll, never the process.
            _logger.LogWarning("Checking the MCP servers' secret files failed ({Reason})", ex.GetType().Name);
        }
    }

    private static string SecretsFingerprint(IEnumerable<McpServersFileContent> contents)
    {
        var files = contents.SelectMany(c => c.SecretFiles).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            return "";
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file + "\0"));
            try
            {
                hash.AppendData(File.ReadAllBytes(file));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                hash.AppendData(Encoding.UTF8.GetBytes("unreadable:" + ex.GetType().Name));
            }
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    public void Dispose()
    {
        _secretPoll.Dispose();
        _files.Dispose();
    }
}
