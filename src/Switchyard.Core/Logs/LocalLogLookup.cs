using System.Globalization;
using System.Text;

namespace Switchyard.Core.Logs;

/// <summary>
/// Finds records in the local log's JSON-lines files. A UUIDv7 id carries its creation time, so only that day's files are
/// read; any other id (a client's own trace id) means reading every file, newest first. The newest match wins.
/// </summary>
public sealed class LocalLogLookup(string directory) : IRequestLogLookup
{
    private const int BlockSize = 1 << 20;

    public async Task<byte[]?> FindAsync(string id, CancellationToken ct)
    {
        if (!Directory.Exists(directory))
        {
            return null;
        }
        var byId = Encoding.UTF8.GetBytes($"\"_id\":\"{id}\"");
        var byTrace = Encoding.UTF8.GetBytes($"\"trace_id\":\"{id}\"");
        var pattern = DayOf(id) is { } day ? $"requests-{day}*.jsonl" : "requests-*.jsonl";
        var files = new DirectoryInfo(directory).GetFiles(pattern)
            .OrderByDescending(f => f.LastWriteTimeUtc).ThenByDescending(f => f.Name, StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            if (await ScanAsync(file.FullName, byId, byTrace, ct).ConfigureAwait(false) is { } found)
            {
                return found;
            }
        }
        return null;
    }

    /// <summary>The UTC day a UUIDv7 was made (its first 48 bits are Unix milliseconds); null for any other id.</summary>
    public static string? DayOf(string id) =>
        Stores.LogObjectPath.TimeOfUuidV7(id)?.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The last line of the file holding the id as <c>_id</c>, else the last holding it as <c>trace_id</c>.</summary>
    private static async Task<byte[]?> ScanAsync(string path, byte[] byId, byte[] byTrace, CancellationToken ct)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: true);
        }
        catch (FileNotFoundException)
        {
            return null; // rotated away meanwhile
        }
        await using (file)
        {
            byte[]? idMatch = null, traceMatch = null;
            var data = new byte[BlockSize * 2];
            var length = 0;
            while (true)
            {
                if (data.Length - length < BlockSize)
                {
                    Array.Resize(ref data, data.Length * 2); // one line longer than a block
                }
                var n = await file.ReadAsync(data.AsMemory(length, BlockSize), ct).ConfigureAwait(false);
                length += n;
                var end = n == 0 ? length : data.AsSpan(0, length).LastIndexOf((byte)'\n') + 1;
                var lines = data.AsSpan(0, end);
                idMatch = LastLineWith(lines, byId) ?? idMatch;
                traceMatch = LastLineWith(lines, byTrace) ?? traceMatch;
                data.AsSpan(end, length - end).CopyTo(data);
                length -= end;
                if (n == 0)
                {
                    return idMatch ?? traceMatch;
                }
            }
        }
    }

    private static byte[]? LastLineWith(ReadOnlySpan<byte> lines, byte[] needle)
    {
        var at = lines.LastIndexOf(needle);
        if (at < 0)
        {
            return null;
        }
        var start = lines[..at].LastIndexOf((byte)'\n') + 1;
        var stop = lines[at..].IndexOf((byte)'\n');
        var line = stop < 0 ? lines[start..] : lines[start..(at + stop)];
        return line.ToArray();
    }
}
