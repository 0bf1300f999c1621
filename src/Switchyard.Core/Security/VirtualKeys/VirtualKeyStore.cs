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
    private readonly Timer _secretPoll;
    private readonly ILogger _logger;
    private string _secretsFingerprint = "";

    public VirtualKeyStore(string path, VirtualKeyFile.Context context, ILogger logger, TimeProvider time, TimeSpan? debounce = null, TimeSpan? pollInterval = null)
    {
        _files = new WatchedFileStore<IReadOnlyList<VirtualKey>, FrozenDictionary<string, VirtualKey>>(path, "VIRTUAL_KEYS_PATH",
            (text, fileName, errors, warnings) => VirtualKeyFile.Parse(text, fileName, context, errors, warnings), Combine,
            FrozenDictionary<string, VirtualKey>.Empty, logger, time, debounce, pollInterval);
        _logger = logger;
        _files.Reloaded += s =>
        {
            _secretsFingerprint = SecretsFingerprint(s.Index);
            Reloaded?.Invoke(s);
        };
        var poll = pollInterval ?? TimeSpan.FromSeconds(2);
        _secretPoll = new Timer(_ => PollSecrets(), null, poll, poll);
    }

    /// <summary>
    /// A rotated Kubernetes secret changes the mounted file, not the virtual-key file: its content is compared on the same 2 s poll,
    /// so a new credential applies without touching the virtual-key file.
    /// </summary>
    private void PollSecrets()
    {
        try
        {
            var current = _files.Current;
            if (current.Index.Count > 0 && SecretsFingerprint(current.Index) != _secretsFingerprint)
            {
                _logger.LogInformation("A secret file referenced from VIRTUAL_KEYS_PATH changed; reloading the virtual keys");
                _files.Reload();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A timer thread: a failure costs this poll, never the process.
            _logger.LogWarning("Checking the virtual keys' secret files failed ({Reason})", ex.GetType().Name);
        }
    }

    private static string SecretsFingerprint(FrozenDictionary<string, VirtualKey> keys)
    {
        var files = keys.Values.SelectMany(k => k.SecretFiles).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            return "";
        }
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(file + "\0"));
            try
            {
                // Contents, not timestamps: a secret volume swaps a symlink, and the link's own times say nothing.
                hash.AppendData(File.ReadAllBytes(file));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes("unreadable:" + ex.GetType().Name));
            }
        }
        return Convert.ToHexString(hash.GetHashAndReset());
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

    public void Dispose()
    {
        _secretPoll.Dispose();
        _files.Dispose();
    }
}
