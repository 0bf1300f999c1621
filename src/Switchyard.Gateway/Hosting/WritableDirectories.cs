namespace Switchyard.Gateway.Hosting;

/// <summary>
/// Start-up check of every directory the gateway will write: made if missing, then a probe file created and removed.
/// On a read-only root filesystem (a hardened container) a directory left at its default cannot be written; that must
/// stop start-up with the variable to change, not surface later as a stack trace or as request logs silently lost.
/// </summary>
internal static class WritableDirectories
{
    /// <summary>The directories this configuration writes, each with the variable that sets it.</summary>
    public static IEnumerable<(string Variable, string Directory)> Required(ServerOptions options)
    {
        var logs = options.Engine.Logs;
        if (logs.Store == "local")
        {
            yield return ("LOG_STORE_LOCAL_PATH", logs.Directory);
        }
        else if (logs.IsObjectStore && logs.Delivery.SpillMaxBytes > 0)
        {
            yield return ("LOG_STORE_SPILL_PATH", logs.Delivery.SpillDirectory);
        }
    }

    /// <summary>Throws a <see cref="FormatException"/> naming the variable when a required directory cannot be written.</summary>
    public static void Check(ServerOptions options)
    {
        foreach (var (variable, directory) in Required(options))
        {
            if (Probe(directory) is { } reason)
            {
                // Name DATA_PATH too when the directory is its default under it, so the message points at what was set.
                var derived = string.IsNullOrWhiteSpace(options.Environment(variable));
                var full = Path.GetFullPath(directory);
                var shown = full == directory ? directory : $"{directory} ({full})";
                var source = derived ? $", the default under DATA_PATH={options.Engine.DataPath}," : "";
                var fix = derived ? $"DATA_PATH, or {variable}," : variable;
                throw new FormatException($"{variable}={shown}{source} cannot be written ({reason}): point {fix} at a writable directory such as /tmp or a mounted volume.");
            }
        }
    }

    /// <summary>Null when <paramref name="directory"/> can be created and written; otherwise why not.</summary>
    internal static string? Probe(string directory)
    {
        var probe = Path.Combine(directory, $".switchyard-write-probe-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(directory);
            using (var file = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
                file.WriteByte(0);
            }
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return "permission denied";
        }
        catch (IOException ex)
        {
            // .NET words errno as "Read-only file system : '/path'"; keep the reason, the path is already in the message.
            var message = ex.Message;
            var cut = message.IndexOf(" : '", StringComparison.Ordinal);
            return (cut > 0 ? message[..cut] : message).Trim().ToLowerInvariant();
        }
    }
}
