using System.Collections.Frozen;
using Microsoft.Extensions.Logging;

namespace Switchyard.Core.Configs;

/// <summary>What a <see cref="WatchedFileStore{TFile, TIndex}"/> holds at one moment; swapped whole on reload.</summary>
public sealed class WatchedFileSnapshot<TFile, TIndex>
    where TFile : class
    where TIndex : class
{
    /// <summary>Each file's content as last loaded without error: what a broken file falls back to.</summary>
    public required IReadOnlyDictionary<string, TFile> ByFile { get; init; }

    /// <summary>What the store built from all files together (the lookup the request path reads).</summary>
    public required TIndex Index { get; init; }

    public IReadOnlyList<ConfigLoadProblem> Problems { get; init; } = [];

    public IReadOnlyList<string> Warnings { get; init; } = [];

    public long Generation { get; init; }

    public DateTimeOffset LoadedAt { get; init; }

    public bool PathExists { get; init; }

    /// <summary><c>ok</c>, <c>degraded</c> (problems; last good versions serve) or <c>missing</c> (nothing at the path).</summary>
    public string State => !PathExists ? "missing" : Problems.Count > 0 ? "degraded" : "ok";
}

/// <summary>
/// A file, or a directory of <c>.json</c>/<c>.yaml</c>/<c>.yml</c> files, parsed into <typeparamref name="TFile"/> per file and
/// combined into <typeparamref name="TIndex"/>; reloaded on change within about two seconds, each file's last good version kept.
/// A watcher with a debounce plus a stat-only poll, because ConfigMap volumes swap a symlink rather than touching the files.
/// Key files, virtual-key files and limit files all load this way.
/// </summary>
public sealed class WatchedFileStore<TFile, TIndex> : IDisposable
    where TFile : class
    where TIndex : class
{
    /// <summary>Parses one file's text; reports problems as (JSON path, message) and returns null when the file cannot serve.</summary>
    public delegate TFile? Parser(string text, string fileName, List<(string Path, string Message)> errors, List<string> warnings);

    /// <summary>Builds the index from every file's content (in file-name order); may add problems and warnings.</summary>
    public delegate TIndex Combiner(IReadOnlyList<KeyValuePair<string, TFile>> files, List<ConfigLoadProblem> problems, List<string> warnings);

    private static readonly string[] Extensions = [".json", ".yaml", ".yml"];

    private readonly string _path;
    private readonly string _setting;
    private readonly Parser _parse;
    private readonly Combiner _combine;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _debounce;
    private readonly Lock _reloadLock = new();
    private readonly Timer _debounceTimer;
    private readonly Timer _pollTimer;
    private FileSystemWatcher? _watcher;
    private volatile WatchedFileSnapshot<TFile, TIndex> _snapshot;
    private string _fingerprint = "";
    private bool _disposed;

    /// <param name="setting">The setting that names the path (<c>API_KEYS_PATH</c>, …), for messages.</param>
    /// <param name="empty">The index before the first load.</param>
    public WatchedFileStore(string path, string setting, Parser parse, Combiner combine, TIndex empty, ILogger logger, TimeProvider time,
        TimeSpan? debounce = null, TimeSpan? pollInterval = null)
    {
        _path = Path.GetFullPath(path);
        _setting = setting;
        _parse = parse;
        _combine = combine;
        _logger = logger;
        _time = time;
        _debounce = debounce ?? TimeSpan.FromMilliseconds(200);
        _snapshot = new WatchedFileSnapshot<TFile, TIndex> { ByFile = FrozenDictionary<string, TFile>.Empty, Index = empty };
        _debounceTimer = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
        var poll = pollInterval ?? TimeSpan.FromSeconds(2);
        _pollTimer = new Timer(_ => Poll(), null, poll, poll);
    }

    public string FullPath => _path;

    /// <summary>The current content: one volatile read on the request path.</summary>
    public WatchedFileSnapshot<TFile, TIndex> Current => _snapshot;

    /// <summary>Raised after every reload with the new snapshot (tests wait on it instead of sleeping).</summary>
    public event Action<WatchedFileSnapshot<TFile, TIndex>>? Reloaded;

    public void Start()
    {
        Reload();
        TryStartWatcher();
    }

    private string WatchedDirectory => Directory.Exists(_path) ? _path : Path.GetDirectoryName(_path) ?? _path;

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
            watcher.Error += (_, e) => _logger.LogWarning(e.GetException(), "Watcher of {Setting} failed; polling continues", _setting);
            watcher.EnableRaisingEvents = true;
            _watcher = watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException)
        {
            _logger.LogWarning(ex, "Cannot watch {Path}; changes are picked up by polling", _path);
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
            .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)
                        && !Path.GetFileName(f).StartsWith('.') && File.Exists(f))
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

    /// <summary>Re-reads the files and swaps the snapshot. Safe from any thread; never throws.</summary>
    public void Reload()
    {
        WatchedFileSnapshot<TFile, TIndex> next;
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
            var byFile = new Dictionary<string, TFile>(StringComparer.Ordinal);
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
                foreach (var (file, content) in previous.ByFile)
                {
                    byFile[file] = content;
                }
            }
            if (!exists)
            {
                problems.Add(new ConfigLoadProblem(_path, "", $"{_setting} does not exist; nothing is loaded from it", false));
            }
            foreach (var file in files)
            {
                var fileName = Path.GetFileName(file);
                var errors = new List<(string Path, string Message)>();
                TFile? content = null;
                try
                {
                    content = _parse(File.ReadAllText(file), fileName, errors, warnings);
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
                if (content is not null && errors.Count == 0)
                {
                    byFile[fileName] = content;
                    continue;
                }
                var kept = previous.ByFile.TryGetValue(fileName, out var old);
                if (kept)
                {
                    byFile[fileName] = old!;
                }
                if (errors.Count == 0)
                {
                    errors.Add(("", "the file could not be loaded"));
                }
                problems.AddRange(errors.Select(e => new ConfigLoadProblem(fileName, e.Path, e.Message, kept)));
            }
            var ordered = byFile.OrderBy(f => f.Key, StringComparer.Ordinal).ToList();
            TIndex index;
            try
            {
                index = _combine(ordered, problems, warnings);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                problems.Add(new ConfigLoadProblem(_path, "", $"the files could not be combined ({ex.GetType().Name}: {ex.Message}); the previous version keeps serving", true));
                index = previous.Index;
            }
            _fingerprint = fingerprint;
            next = new WatchedFileSnapshot<TFile, TIndex>
            {
                ByFile = byFile,
                Index = index,
                Problems = problems,
                Warnings = warnings,
                Generation = previous.Generation + 1,
                LoadedAt = _time.GetUtcNow(),
                PathExists = exists,
            };
            _snapshot = next;
            foreach (var p in problems)
            {
                _logger.LogError("{Setting} file {File} is invalid at {Path}: {Problem} ({Outcome})", _setting, p.File, p.Path.Length == 0 ? "(root)" : p.Path,
                    p.Message, p.KeptPreviousVersion ? "the previous version keeps serving" : "not loaded");
            }
            foreach (var w in warnings)
            {
                _logger.LogWarning("{Warning}", w);
            }
            _logger.LogInformation("Loaded {Count} files from {Setting} {Path} (generation {Generation})", byFile.Count, _setting, _path, next.Generation);
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
