using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Switchyard.Core.Logs.Delivery;

/// <summary>
/// Log objects waiting on local disk for the store: one file per object (<see cref="SpillFileFormat"/>), written under a
/// temporary name and renamed, so a crash leaves either a whole file or a <c>.tmp</c> that start-up checks. Names begin
/// with the clock's ticks, so name order is age order. Files that cannot be read back go to <c>corrupt/</c>.
/// </summary>
internal sealed class SpillDirectory
{
    public const string Extension = ".spill";
    private const string TempExtension = ".spill.tmp";
    private const string QuarantineFolder = "corrupt";

    private readonly string _directory;
    private readonly string _quarantine;
    private readonly long _maxBytes;
    private readonly bool _fsync;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    // Distinguishes this process's files from a previous one's written in the same tick.
    private readonly string _instance = Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()));
    private long _sequence;
    private long _count;
    private long _bytes;
    private long _quarantined;

    public SpillDirectory(string directory, long maxBytes, bool fsync, TimeProvider time, ILogger logger)
    {
        _directory = Path.GetFullPath(directory);
        _quarantine = Path.Combine(_directory, QuarantineFolder);
        _maxBytes = maxBytes;
        _fsync = fsync;
        _time = time;
        _logger = logger;
        // With spilling off, a directory an earlier run left is still uploaded; none is made.
        if (maxBytes > 0 || Directory.Exists(_directory))
        {
            Inventory();
        }
    }

    /// <summary>The directory, as a full path.</summary>
    public string FullPath => _directory;

    /// <summary>Files waiting (including ones being written).</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Bytes those files take (including ones being written).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Files set aside in <c>corrupt/</c> since start.</summary>
    public long Quarantined => Interlocked.Read(ref _quarantined);

    /// <summary>Raised after a file is added, so the uploader can wake.</summary>
    public event Action? Added;

    /// <summary>Writes the object to its own file; <see cref="SpillResult.OverBudget"/> when it would not fit the disk budget.</summary>
    public SpillResult TryWrite(LogObject obj, out Exception? error)
    {
        error = null;
        var bytes = SpillFileFormat.Encode(obj);
        if (!TryReserve(bytes.Length))
        {
            return SpillResult.OverBudget;
        }
        var final = Path.Combine(_directory, NextName());
        var temp = final + ".tmp";
        try
        {
            try
            {
                WriteFile(temp, bytes);
            }
            catch (DirectoryNotFoundException)
            {
                // Someone emptied the volume or removed the directory: make it again, once.
                Directory.CreateDirectory(_directory);
                WriteFile(temp, bytes);
            }
            File.Move(temp, final);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Release(bytes.Length);
            TryDelete(temp);
            error = ex;
            return SpillResult.Failed;
        }
        Added?.Invoke();
        return SpillResult.Spilled;
    }

    /// <summary>The files waiting now, oldest first.</summary>
    public List<SpillEntry> Snapshot()
    {
        var entries = new List<SpillEntry>();
        try
        {
            foreach (var file in new DirectoryInfo(_directory).EnumerateFiles("*" + Extension))
            {
                if (file.Name.EndsWith(Extension, StringComparison.Ordinal))
                {
                    entries.Add(new SpillEntry(file.FullName, file.Name, file.Length));
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            return entries;
        }
        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return entries;
    }

    /// <summary>
    /// Reads a file back. A damaged one is moved to <c>corrupt/</c> and logged, a vanished one is forgotten; both give
    /// null. <paramref name="stuck"/> says the file is still in place but unreadable (or could not be moved aside).
    /// </summary>
    public LogObject? TryRead(SpillEntry entry, out bool stuck)
    {
        stuck = false;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(entry.Path);
        }
        catch (FileNotFoundException)
        {
            // Removed behind our back (an operator cleaning up): it no longer takes space.
            Release(entry.Length);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning(ex, "Cannot read spilled log file {File}; it stays for a later attempt", entry.Path);
            stuck = true;
            return null;
        }
        var obj = SpillFileFormat.TryDecode(bytes, out var problem);
        if (obj is null)
        {
            if (Quarantine(entry.Path, problem!))
            {
                Release(entry.Length);
            }
            else
            {
                stuck = true;
            }
        }
        return obj;
    }

    /// <summary>Removes a file whose object the store has accepted.</summary>
    public void Delete(SpillEntry entry)
    {
        try
        {
            File.Delete(entry.Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // It will be uploaded again later; the store's idempotent writes keep that harmless.
            _logger.LogWarning(ex, "Cannot delete uploaded spill file {File}", entry.Path);
            return;
        }
        Release(entry.Length);
    }

    private void Inventory()
    {
        Directory.CreateDirectory(_directory);
        foreach (var file in new DirectoryInfo(_directory).EnumerateFiles())
        {
            if (file.Name.EndsWith(TempExtension, StringComparison.Ordinal))
            {
                RecoverTemp(file);
            }
        }
        long count = 0, bytes = 0;
        foreach (var entry in Snapshot())
        {
            count++;
            bytes += entry.Length;
        }
        _count = count;
        _bytes = bytes;
        if (count > 0)
        {
            _logger.LogInformation("Found {Count} spilled log records ({Bytes} bytes) in {Directory} from an earlier run; they will be uploaded",
                count, bytes, _directory);
        }
    }

    /// <summary>A crash between write and rename: a whole file is kept, a torn one set aside.</summary>
    private void RecoverTemp(FileInfo file)
    {
        try
        {
            var bytes = File.ReadAllBytes(file.FullName);
            if (SpillFileFormat.TryDecode(bytes, out var problem) is not null)
            {
                File.Move(file.FullName, file.FullName[..^".tmp".Length], overwrite: true);
            }
            else
            {
                Quarantine(file.FullName, problem!);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning(ex, "Cannot recover the unfinished spill file {File}", file.FullName);
        }
    }

    /// <summary>Moves a damaged file aside so it no longer blocks the queue nor counts against the budget; false when it could not be moved.</summary>
    private bool Quarantine(string path, string problem)
    {
        Interlocked.Increment(ref _quarantined);
        try
        {
            Directory.CreateDirectory(_quarantine);
            var target = Path.Combine(_quarantine, Path.GetFileName(path));
            for (var n = 1; File.Exists(target); n++)
            {
                target = Path.Combine(_quarantine, Path.GetFileName(path) + "." + n.ToString(CultureInfo.InvariantCulture));
            }
            File.Move(path, target);
            _logger.LogWarning("Spilled log file {File} cannot be read back ({Problem}); moved to {Target} and skipped", path, problem, target);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning(ex, "Spilled log file {File} cannot be read back ({Problem}) nor moved aside", path, problem);
            return false;
        }
    }

    private string NextName()
    {
        var ticks = _time.GetUtcNow().UtcTicks.ToString("D19", CultureInfo.InvariantCulture);
        var seq = Interlocked.Increment(ref _sequence).ToString("D12", CultureInfo.InvariantCulture);
        return $"{ticks}-{_instance}-{seq}{Extension}";
    }

    private void WriteFile(string path, byte[] bytes)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        file.Write(bytes);
        if (_fsync)
        {
            file.Flush(flushToDisk: true);
        }
    }

    private bool TryReserve(long size)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _bytes);
            if (current + size > _maxBytes)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _bytes, current + size, current) == current)
            {
                Interlocked.Increment(ref _count);
                return true;
            }
        }
    }

    private void Release(long size)
    {
        Interlocked.Add(ref _bytes, -size);
        Interlocked.Decrement(ref _count);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover .tmp is checked at the next start.
        }
    }
}
