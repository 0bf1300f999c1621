using Switchyard.Core.Configs;
using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Switchyard.Core.Security.ApiKeys;

/// <summary>A problem with a key file: where, what, and whether that file's previous version keeps serving.</summary>
/// <summary>The keys loaded at one moment; swapped whole on reload.</summary>
public sealed class ApiKeySnapshot
{
    public static readonly ApiKeySnapshot Empty = new();

    /// <summary>Keys by lowercase hex hash.</summary>
    public FrozenDictionary<string, ApiKey> ByHash { get; init; } = FrozenDictionary<string, ApiKey>.Empty;

    /// <summary>Each file's keys as last loaded without error: what a broken file falls back to.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<ApiKey>> ByFile { get; init; } = new Dictionary<string, IReadOnlyList<ApiKey>>();

    public IReadOnlyList<ConfigLoadProblem> Problems { get; init; } = [];

    public IReadOnlyList<string> Warnings { get; init; } = [];

    public long Generation { get; init; }

    public DateTimeOffset LoadedAt { get; init; }

    public bool PathExists { get; init; }

    /// <summary><c>ok</c>, <c>degraded</c> (problems; last good versions serve) or <c>missing</c> (nothing at the path).</summary>
    public string State => !PathExists ? "missing" : Problems.Count > 0 ? "degraded" : "ok";
}

/// <summary>
/// Gateway API keys from <c>API_KEYS_PATH</c> (one file or a directory of files): validated on load, reloaded on change within
/// about two seconds, each file's last good version kept. Watched like <see cref="Configs.NamedConfigStore"/>: a watcher with a
/// debounce plus a stat-only poll, because ConfigMap volumes swap a symlink rather than touching the files.
/// </summary>
public sealed class ApiKeyStore : IDisposable
{
    private static readonly string[] Extensions = [".json", ".yaml", ".yml"];

    private readonly string _path;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _debounce;
    private readonly Lock _reloadLock = new();
    private readonly Timer _debounceTimer;
    private readonly Timer _pollTimer;
    private FileSystemWatcher? _watcher;
    private volatile ApiKeySnapshot _snapshot = ApiKeySnapshot.Empty;
    private string _fingerprint = "";
    private bool _disposed;

    public ApiKeyStore(string path, ILogger logger, TimeProvider time, TimeSpan? debounce = null, TimeSpan? pollInterval = null)
    {
        _path = System.IO.Path.GetFullPath(path);
        _logger = logger;
        _time = time;
        _debounce = debounce ?? TimeSpan.FromMilliseconds(200);
        _debounceTimer = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
        var poll = pollInterval ?? TimeSpan.FromSeconds(2);
        _pollTimer = new Timer(_ => Poll(), null, poll, poll);
    }

    public string Path => _path;

    /// <summary>The current keys: one volatile read on the request path.</summary>
    public ApiKeySnapshot Current => _snapshot;

    /// <summary>Raised after every reload with the new snapshot (tests wait on it instead of sleeping).</summary>
    public event Action<ApiKeySnapshot>? Reloaded;

    /// <summary>The key whose hash matches, compared in constant time; null for an unknown key.</summary>
    public ApiKey? Find(string presented)
    {
        var hash = ApiKeyHash.Compute(presented);
        if (_snapshot.ByHash.TryGetValue(Convert.ToHexStringLower(hash), out var key) && CryptographicOperations.FixedTimeEquals(hash, key.Hash))
        {
            return key;
        }
        return null;
    }

    public void Start()
    {
        Reload();
        TryStartWatcher();
    }

    private string WatchedDirectory => Directory.Exists(_path) ? _path : System.IO.Path.GetDirectoryName(_path) ?? _path;

    private void TryStartWatcher()
    {
        if (_watcher is not null || !Directory.Exists(WatchedDirectory))
        {
            return;
        }
        try
        {
            var watcher = new FileSystemWatcher(WatchedDirectory)
            {
                IncludeSubdirectories = false,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime | NotifyFilters.DirectoryName,
            };
            FileSystemEventHandler changed = (_, _) =>
            {
                lock (_reloadLock)
                {
                    if (!_disposed)
                    {
                        _debounceTimer.Change(_debounce, Timeout.InfiniteTimeSpan);
                    }
                }
            };
            watcher.Changed += changed;
            watcher.Created += changed;
            watcher.Deleted += changed;
            watcher.Renamed += (s, e) => changed(s, e);
            watcher.Error += (_, e) => _logger.LogWarning(e.GetException(), "Key file watcher failed; polling continues");
            watcher.EnableRaisingEvents = true;
            _watcher = watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException)
        {
            _logger.LogWarning(ex, "Cannot watch {Path}; key changes are picked up by polling", _path);
        }
    }

    private void Poll()
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

    private List<string> Files()
    {
        if (File.Exists(_path))
        {
            return [_path];
        }
        if (!Directory.Exists(_path))
        {
            return [];
        }
        return Directory.EnumerateFiles(_path)
            .Where(f => Extensions.Contains(System.IO.Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)
                        && !System.IO.Path.GetFileName(f).StartsWith('.') && File.Exists(f))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private string Fingerprint()
    {
        try
        {
            var parts = new List<string> { File.Exists(_path) ? "file" : Directory.Exists(_path) ? "dir" : "none" };
            foreach (var file in Files())
            {
                var info = new FileInfo(file);
                parts.Add($"{info.Name}:{info.Length}:{info.LastWriteTimeUtc.Ticks}");
            }
            return string.Join('|', parts);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "unreadable:" + ex.GetType().Name;
        }
    }

    /// <summary>Re-reads the key files and swaps the snapshot. Safe from any thread; never throws.</summary>
    public void Reload()
    {
        ApiKeySnapshot next;
        lock (_reloadLock)
        {
            if (_disposed)
            {
                return;
            }
            var previous = _snapshot;
            var fingerprint = Fingerprint();
            var problems = new List<ConfigLoadProblem>();
            var warnings = new List<string>();
            var byFile = new Dictionary<string, IReadOnlyList<ApiKey>>(StringComparer.Ordinal);
            var exists = File.Exists(_path) || Directory.Exists(_path);
            List<string> files;
            try
            {
                files = Files();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problems.Add(new ConfigLoadProblem(_path, "", $"cannot be read: {ex.Message}", previous.ByFile.Count > 0));
                files = [];
                foreach (var (file, keys) in previous.ByFile)
                {
                    byFile[file] = keys;
                }
            }
            if (!exists)
            {
                problems.Add(new ConfigLoadProblem(_path, "", "API_KEYS_PATH does not exist; no key is accepted", false));
            }
            foreach (var file in files)
            {
                var fileName = System.IO.Path.GetFileName(file);
                var errors = new List<(string Path, string Message)>();
                List<ApiKey>? keys = null;
                try
                {
                    keys = ApiKeyFile.Parse(File.ReadAllText(file), fileName, errors, warnings);
                }
                catch (IOException ex)
                {
                    errors.Add(("", $"cannot read the file: {ex.Message}"));
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // Runs on a timer thread: a file nobody foresaw costs that file, never the process.
                    errors.Add(("", $"the file could not be loaded ({ex.GetType().Name})"));
                }
                if (keys is not null)
                {
                    byFile[fileName] = keys;
                    continue;
                }
                var kept = previous.ByFile.TryGetValue(fileName, out var old);
                if (kept)
                {
                    byFile[fileName] = old!;
                }
                problems.AddRange(errors.Select(e => new ConfigLoadProblem(fileName, e.Path, e.Message, kept)));
            }
            var byHash = new Dictionary<string, ApiKey>(StringComparer.Ordinal);
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (file, keys) in byFile.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                foreach (var key in keys)
                {
                    var hex = Convert.ToHexStringLower(key.Hash);
                    if (byHash.TryGetValue(hex, out var first))
                    {
                        // The same secret under two names would make the log record ambiguous: the first definition wins.
                        problems.Add(new ConfigLoadProblem(file, "", $"key '{key.Name}' has the same hash as key '{first.Name}' in {first.File}; only the first is used", true));
                        continue;
                    }
                    if (names.TryGetValue(key.Name, out var otherFile))
                    {
                        warnings.Add($"Key name '{key.Name}' is defined in {otherFile} and in {file}; request logs cannot tell them apart");
                    }
                    names[key.Name] = file;
                    byHash[hex] = key;
                }
            }
            _fingerprint = fingerprint;
            next = new ApiKeySnapshot
            {
                ByHash = byHash.ToFrozenDictionary(StringComparer.Ordinal),
                ByFile = byFile,
                Problems = problems,
                Warnings = warnings,
                Generation = previous.Generation + 1,
                LoadedAt = _time.GetUtcNow(),
                PathExists = exists,
            };
            _snapshot = next;
            foreach (var p in problems)
            {
                _logger.LogError("Key file {File} is invalid at {Path}: {Problem} ({Outcome})", p.File, p.Path.Length == 0 ? "(root)" : p.Path, p.Message,
                    p.KeptPreviousVersion ? "the previous version keeps serving" : "not loaded");
            }
            foreach (var w in warnings)
            {
                _logger.LogWarning("{Warning}", w);
            }
            _logger.LogInformation("Loaded {Count} API keys from {Path} (generation {Generation})", byHash.Count, _path, next.Generation);
        }
        Reloaded?.Invoke(next);
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
