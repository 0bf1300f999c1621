using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Configs;

namespace Switchyard.Core.Security.ApiKeys;

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
/// about two seconds, each file's last good version kept (see <see cref="WatchedFileStore{TFile, TIndex}"/>).
/// </summary>
public sealed class ApiKeyStore : IDisposable
{
    private readonly WatchedFileStore<IReadOnlyList<ApiKey>, FrozenDictionary<string, ApiKey>> _files;
    private volatile ApiKeySnapshot _snapshot = ApiKeySnapshot.Empty;

    public ApiKeyStore(string path, ILogger logger, TimeProvider time, TimeSpan? debounce = null, TimeSpan? pollInterval = null)
    {
        _files = new WatchedFileStore<IReadOnlyList<ApiKey>, FrozenDictionary<string, ApiKey>>(path, "API_KEYS_PATH",
            (text, fileName, errors, warnings) => ApiKeyFile.Parse(text, fileName, errors, warnings), Combine,
            FrozenDictionary<string, ApiKey>.Empty, logger, time, debounce, pollInterval);
        _files.Reloaded += s =>
        {
            var next = new ApiKeySnapshot
            {
                ByHash = s.Index,
                ByFile = s.ByFile,
                Problems = s.Problems,
                Warnings = s.Warnings,
                Generation = s.Generation,
                LoadedAt = s.LoadedAt,
                PathExists = s.PathExists,
            };
            _snapshot = next;
            Reloaded?.Invoke(next);
        };
    }

    public string Path => _files.FullPath;

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

    public void Start() => _files.Start();

    /// <summary>Re-reads the key files and swaps the snapshot. Safe from any thread; never throws.</summary>
    public void Reload() => _files.Reload();

    private static FrozenDictionary<string, ApiKey> Combine(IReadOnlyList<KeyValuePair<string, IReadOnlyList<ApiKey>>> files,
        List<ConfigLoadProblem> problems, List<string> warnings)
    {
        var byHash = new Dictionary<string, ApiKey>(StringComparer.Ordinal);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (file, keys) in files)
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
        return byHash.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public void Dispose() => _files.Dispose();
}
