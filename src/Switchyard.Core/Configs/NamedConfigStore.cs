using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Switchyard.Core.Configs;

/// <summary>Named routing configs from a directory (<c>CONFIG_DIR</c>): validated on load, reloaded on change, last good version kept.</summary>
/// <remarks>
/// The whole directory is re-read on any change: directories are small, and Kubernetes ConfigMap volumes swap a
/// <c>..data</c> symlink rather than touching the files, so per-file events are unreliable. A stat-only poll backs up the watcher.
/// </remarks>
public sealed class NamedConfigStore : IDisposable
{
    private static readonly string[] Extensions = [".json", ".yaml", ".yml"];

    private readonly string _directory;
    private readonly ConfigCompiler _compiler;
    private readonly Func<string, string?> _environment;
    private readonly ILogger _logger;
    private readonly TimeSpan _debounce;
    private readonly TimeProvider _time;
    private readonly Lock _reloadLock = new();
    private readonly Timer _debounceTimer;
    private readonly Timer _pollTimer;
    private FileSystemWatcher? _watcher;
    private volatile ConfigStoreSnapshot _snapshot = ConfigStoreSnapshot.Empty;
    private string _fingerprint = "";
    private volatile bool _directoryRead;
    private volatile string? _directoryProblem;
    private bool _disposed;

    /// <param name="time">The engine's clock, which stamps each snapshot's <see cref="ConfigStoreSnapshot.LoadedAt"/>.</param>
    public NamedConfigStore(ConfigStoreOptions options, ConfigCompiler compiler, Func<string, string?> environment, ILogger logger, TimeProvider time, TimeSpan? pollInterval = null)
    {
        _directory = Path.GetFullPath(options.Directory);
        _compiler = compiler;
        _environment = environment;
        _logger = logger;
        _debounce = options.ReloadDebounce;
        _time = time;
        _debounceTimer = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
        var poll = pollInterval ?? TimeSpan.FromSeconds(2);
        _pollTimer = new Timer(_ => PollForChanges(), null, poll, poll);
    }

    public string Directory => _directory;

    /// <summary>True once the directory has been listed at least once (readiness waits for it; a later failure keeps the last good configs).</summary>
    public bool DirectoryRead => _directoryRead;

    /// <summary>Why the directory could not be listed at the last reload (missing, unreadable), or null.</summary>
    public string? DirectoryProblem => _directoryProblem;

    /// <summary>The current snapshot: one volatile read, no locks on the request path.</summary>
    public ConfigStoreSnapshot Current => _snapshot;

    public bool TryGet(string name, out RoutingConfig config) => _snapshot.Configs.TryGetValue(name, out config!);

    /// <summary>Loads the directory now and starts watching it.</summary>
    public void Start()
    {
        Reload();
        TryStartWatcher();
    }

    private void TryStartWatcher()
    {
        if (_watcher is not null || !System.IO.Directory.Exists(_directory))
        {
            return;
        }
        try
        {
            var watcher = new FileSystemWatcher(_directory)
            {
                IncludeSubdirectories = false,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime | NotifyFilters.DirectoryName,
            };
            watcher.Changed += OnFileEvent;
            watcher.Created += OnFileEvent;
            watcher.Deleted += OnFileEvent;
            watcher.Renamed += OnFileEvent;
            watcher.Error += (_, e) => _logger.LogWarning(e.GetException(), "Config directory watcher failed; polling continues");
            watcher.EnableRaisingEvents = true;
            _watcher = watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException)
        {
            _logger.LogWarning(ex, "Cannot watch {Directory}; changes are picked up by polling", _directory);
        }
    }

    private void OnFileEvent(object sender, FileSystemEventArgs e)
    {
        lock (_reloadLock)
        {
            if (!_disposed)
            {
                _debounceTimer.Change(_debounce, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void PollForChanges()
    {
        if (_disposed)
        {
            return;
        }
        TryStartWatcher();
        if (Fingerprint() != _fingerprint)
        {
            Reload();
        }
    }

    private string Fingerprint()
    {
        try
        {
            if (!System.IO.Directory.Exists(_directory))
            {
                return "";
            }
            // An empty directory differs from a missing one: its arrival (a late volume mount) is a change to load.
            var parts = new List<string> { "dir" };
            foreach (var file in ConfigFiles())
            {
                // Size and time of what the name resolves to: a ConfigMap's files are symlinks into a directory that is swapped.
                var info = new FileInfo(file);
                parts.Add($"{info.Name}:{info.Length}:{info.LastWriteTimeUtc.Ticks}");
            }
            return string.Join('|', parts);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Runs on a timer thread; a directory changing under the listing means "changed", never a crash.
            return "unreadable:" + ex.GetType().Name;
        }
    }

    /// <summary>
    /// The config files, by name. Names starting with '.' are never configs: a ConfigMap volume keeps its real files under
    /// <c>..data</c> and <c>..2026_…</c> entries. A symlink whose target is gone (mid-swap, before the kubelet removes the
    /// names a new version dropped) counts as absent.
    /// </summary>
    private List<string> ConfigFiles() =>
        System.IO.Directory.EnumerateFiles(_directory)
            .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)
                        && !Path.GetFileName(f).StartsWith('.')
                        && File.Exists(f))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Re-reads the directory and swaps the snapshot. Safe to call from any thread.</summary>
    public void Reload()
    {
        lock (_reloadLock)
        {
            if (_disposed)
            {
                return;
            }
            var previous = _snapshot;
            var fingerprint = Fingerprint();
            var configs = new Dictionary<string, RoutingConfig>(StringComparer.Ordinal);
            var problems = new List<ConfigLoadProblem>();
            var warnings = new List<string>();
            var exists = System.IO.Directory.Exists(_directory);
            List<string>? files = null;
            if (!exists)
            {
                _directoryProblem = "the directory does not exist";
            }
            else
            {
                try
                {
                    files = ConfigFiles();
                    _directoryProblem = null;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Unreadable (permissions) or removed while listed: keep serving what was loaded, and say why.
                    _directoryProblem = $"the directory cannot be read: {ex.Message}";
                    problems.Add(new ConfigLoadProblem(_directory, "", _directoryProblem, previous.Configs.Count > 0));
                    foreach (var (name, config) in previous.Configs)
                    {
                        configs[name] = config;
                    }
                }
            }
            if (files is not null)
            {
                _directoryRead = true;
                var byName = files.GroupBy(f => Path.GetFileNameWithoutExtension(f), StringComparer.Ordinal);
                foreach (var group in byName)
                {
                    var named = group.ToList();
                    if (named.Count > 1)
                    {
                        var names = string.Join(", ", named.Select(Path.GetFileName));
                        var kept = previous.Configs.TryGetValue(group.Key, out var old);
                        problems.Add(new ConfigLoadProblem(names, "", $"several files define config '{group.Key}'; keep one", kept));
                        if (kept)
                        {
                            configs[group.Key] = old!;
                        }
                        continue;
                    }
                    LoadFile(named[0], group.Key, previous, configs, problems, warnings);
                }
            }
            _fingerprint = fingerprint;
            _snapshot = new ConfigStoreSnapshot
            {
                Configs = configs.ToFrozenDictionary(StringComparer.Ordinal),
                Problems = problems,
                Warnings = warnings,
                Generation = previous.Generation + 1,
                LoadedAt = _time.GetUtcNow(),
                DirectoryExists = exists,
            };
            foreach (var p in problems)
            {
                _logger.LogError("Config {File} is invalid at {JsonPath}: {Problem} ({Outcome})", p.File, p.Path.Length == 0 ? "(root)" : p.Path, p.Message,
                    p.KeptPreviousVersion ? "the previous version keeps serving" : "not loaded");
            }
            foreach (var w in warnings)
            {
                _logger.LogWarning("{Warning}", w);
            }
            _logger.LogInformation("Loaded {Count} named configs from {Directory} (generation {Generation})", configs.Count, _directory, _snapshot.Generation);
        }
    }

    private void LoadFile(string file, string name, ConfigStoreSnapshot previous, Dictionary<string, RoutingConfig> configs,
        List<ConfigLoadProblem> problems, List<string> warnings)
    {
        var fileName = Path.GetFileName(file);
        var errors = new List<ConfigError>();
        RoutingConfig? compiled = null;
        try
        {
            var text = File.ReadAllText(file);
            var isYaml = !fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
            var node = isYaml ? ConfigText.ParseYaml(text, out var parseError) : ConfigText.ParseJson(text, out parseError);
            if (node is null)
            {
                errors.Add(new ConfigError("", parseError ?? "unreadable"));
            }
            else
            {
                var missing = CredentialReferences.Resolve(node, _environment).Distinct().ToList();
                if (missing.Count > 0)
                {
                    warnings.Add($"Config {fileName} refers to unset variables {string.Join(", ", missing.Select(m => "${" + m + "}"))}; those values are empty (a missing api_key falls back to the client's Authorization header)");
                }
                using var document = JsonDocument.Parse(node.ToJsonString());
                compiled = _compiler.Compile(document.RootElement, fileName, errors);
            }
        }
        catch (IOException ex)
        {
            errors.Add(new ConfigError("", $"cannot read the file: {ex.Message}"));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Loading runs on a timer thread, where an escaping exception ends the process: a file the checks above did not
            // foresee must cost only that file (and is logged with the reason), never the gateway.
            errors.Add(new ConfigError("", $"the file could not be loaded ({ex.GetType().Name}: {ex.Message})"));
        }
        if (compiled is not null)
        {
            configs[name] = compiled;
            return;
        }
        var kept = previous.Configs.TryGetValue(name, out var old);
        if (kept)
        {
            configs[name] = old!;
        }
        foreach (var e in errors)
        {
            problems.Add(new ConfigLoadProblem(fileName, e.Path, e.Message, kept));
        }
    }

    public void Dispose()
    {
        lock (_reloadLock)
        {
            _disposed = true;
        }
        _watcher?.Dispose();
        _debounceTimer.Dispose();
        _pollTimer.Dispose();
    }
}
