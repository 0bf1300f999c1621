using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Configs;

namespace Switchyard.Core.Security.VirtualKeys;

/// <summary>
/// Virtual keys from <c>VIRTUAL_KEYS_PATH</c> (one file or a directory of files): validated and their credentials resolved on load,
/// reloaded on change within about two seconds, each file's last good version kept (see <see cref="WatchedFileStore{TFile, TIndex}"/>).
/// </summary>
public sealed class VirtualKeyStore : IDisposable
{
    private readonly WatchedFileStore<IReadOnlyList<VirtualKey>, FrozenDictionary<string, VirtualKey>> _files;

    public VirtualKeyStore(string path, VirtualKeyFile.Context context, ILogger logger, TimeProvider time, TimeSpan? debounce = null, TimeSpan? pollInterval = null)
    {
        _files = new WatchedFileStore<IReadOnlyList<VirtualKey>, FrozenDictionary<string, VirtualKey>>(path, "VIRTUAL_KEYS_PATH",
            (text, fileName, errors, warnings) => VirtualKeyFile.Parse(text, fileName, context, errors, warnings), Combine,
            FrozenDictionary<string, VirtualKey>.Empty, logger, time, debounce, pollInterval);
        _files.Reloaded += s => Reloaded?.Invoke(s);
    }

    public string Path => _files.FullPath;

    /// <summary>The current snapshot (keys by slug, problems, warnings, generation): one volatile read.</summary>
    public WatchedFileSnapshot<IReadOnlyList<VirtualKey>, FrozenDictionary<string, VirtualKey>> Current => _files.Current;

    /// <summary>Every loaded virtual key, ordered by slug (for the admin API and health).</summary>
    public IReadOnlyList<VirtualKey> All => [.. _files.Current.Index.Values.OrderBy(k => k.Slug, StringComparer.Ordinal)];

    /// <summary>Raised after every reload with the new snapshot (tests wait on it instead of sleeping).</summary>
    public event Action<WatchedFileSnapshot<IReadOnlyList<VirtualKey>, FrozenDictionary<string, VirtualKey>>>? Reloaded;

    /// <summary>The virtual key named <paramref name="slug"/> in the current snapshot.</summary>
    public bool TryGet(string slug, [MaybeNullWhen(false)] out VirtualKey key) => _files.Current.Index.TryGetValue(slug, out key);

    public void Start() => _files.Start();

    /// <summary>Re-reads the files (and the credentials they reference) and swaps the snapshot. Safe from any thread; never throws.</summary>
    public void Reload() => _files.Reload();

    private static FrozenDictionary<string, VirtualKey> Combine(IReadOnlyList<KeyValuePair<string, IReadOnlyList<VirtualKey>>> files,
        List<ConfigLoadProblem> problems, List<string> warnings)
    {
        var bySlug = new Dictionary<string, VirtualKey>(StringComparer.Ordinal);
        foreach (var (file, keys) in files)
        {
            foreach (var key in keys)
            {
                if (bySlug.TryGetValue(key.Slug, out var first))
                {
                    // Two credentials under one name would make routing depend on file order silently: the first (by file name) wins, loudly.
                    problems.Add(new ConfigLoadProblem(file, "", $"virtual key '{key.Slug}' is also defined in {first.File}; only that first definition is used", true));
                    continue;
                }
                bySlug[key.Slug] = key;
            }
        }
        return bySlug.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public void Dispose() => _files.Dispose();
}
