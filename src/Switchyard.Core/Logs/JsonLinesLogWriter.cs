using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Switchyard.Core.Logs;

/// <summary>
/// The local log store: records go through a bounded channel to one background writer that appends JSON lines to
/// <c>requests-YYYY-MM-DD[.N].jsonl</c> in a directory, rolling to a new file at a size limit and deleting the oldest
/// files when the directory exceeds its total limit. The request path only enqueues.
/// </summary>
public sealed class JsonLinesLogWriter : IRequestLogSink, ILogDeliveryStatus, IAsyncDisposable
{
    private readonly Channel<RequestLogRecord> _channel;
    private readonly string _directory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private Task? _writer;
    private readonly object _start = new();
    private long _dropped;
    private long _written;

    private readonly long _fileLimit;
    private readonly long _totalLimit;

    public JsonLinesLogWriter(string directory, int capacity, ILogger logger, long fileLimitBytes = 64L << 20, long totalLimitBytes = 1L << 30, TimeProvider? time = null)
    {
        _directory = Path.GetFullPath(directory);
        _fileLimit = Math.Max(4096, fileLimitBytes);
        _totalLimit = Math.Max(_fileLimit, totalLimitBytes);
        _logger = logger;
        // The system clock only for writers built outside the engine (tests); SwitchyardEngine passes its own.
        _time = time ?? TimeProvider.System;
        System.IO.Directory.CreateDirectory(_directory);
        _channel = Channel.CreateBounded<RequestLogRecord>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.DropWrite,
        });
    }

    /// <summary>Starts the background writer (the engine starts it with its other background work).</summary>
    public void Start()
    {
        lock (_start)
        {
            _writer ??= Task.Run(WriteLoopAsync);
        }
    }

    public string Directory => _directory;

    /// <summary>Records dropped because the writer could not keep up (also logged).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public long Written => Interlocked.Read(ref _written);

    string ILogDeliveryStatus.Store => "local";

    /// <summary>Records waiting for the writer.</summary>
    public long QueueDepth => _channel.Reader.Count;

    // A local directory has no outage to spill through and no circuit to trip: what cannot be written is dropped and counted.
    long ILogDeliveryStatus.SpilledRecords => 0;

    long ILogDeliveryStatus.SpilledBytes => 0;

    long ILogDeliveryStatus.Delivered => Written;

    bool ILogDeliveryStatus.CircuitOpen => false;

    public bool TryWrite(RequestLogRecord record)
    {
        if (_channel.Writer.TryWrite(record))
        {
            return true;
        }
        Interlocked.Increment(ref _dropped);
        return false;
    }

    private async Task WriteLoopAsync()
    {
        var reader = _channel.Reader;
        FileStream? file = null;
        string? currentDay = null;
        var reportedDrops = 0L;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(16 * 1024);
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var record))
                {
                    var day = record.StartedAt.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
                    if (day != currentDay || file is null || file.Length >= _fileLimit)
                    {
                        if (file is not null)
                        {
                            await file.DisposeAsync().ConfigureAwait(false);
                            file = null;
                        }
                        try
                        {
                            // The directory may have been removed (a cleanup job, an emptied volume): make it again.
                            System.IO.Directory.CreateDirectory(_directory);
                            file = OpenAppend(NextFile(day));
                        }
                        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                        {
                            // Count the loss and keep the writer alive for the records after it.
                            Interlocked.Increment(ref _dropped);
                            _logger.LogError(ex, "Cannot open a request log file in {Directory}", _directory);
                            continue;
                        }
                        currentDay = day;
                        EnforceTotalLimit(file.Name);
                    }
                    buffer.ResetWrittenCount();
                    try
                    {
                        RequestLogDocument.WriteTo(buffer, record);
                    }
                    catch (Exception ex)
                    {
                        // A record that cannot be serialised is lost alone; the writer carries on with the next.
                        Interlocked.Increment(ref _dropped);
                        _logger.LogError(ex, "Cannot serialise the request-log record of {TraceId}", record.TraceId);
                        continue;
                    }
                    try
                    {
                        file.Write(buffer.WrittenSpan);
                        file.WriteByte((byte)'\n');
                        Interlocked.Increment(ref _written);
                    }
                    catch (IOException ex)
                    {
                        Interlocked.Increment(ref _dropped);
                        _logger.LogError(ex, "Cannot write the request log to {Directory}", _directory);
                    }
                }
                // Flush when the queue is momentarily empty: batches under load, prompt when idle.
                try
                {
                    file?.Flush();
                }
                catch (IOException ex)
                {
                    _logger.LogError(ex, "Cannot flush the request log in {Directory}", _directory);
                }
                var dropped = Dropped;
                if (dropped != reportedDrops)
                {
                    _logger.LogWarning("Request log could not keep up: {Dropped} records dropped so far", dropped);
                    reportedDrops = dropped;
                }
            }
        }
        finally
        {
            if (file is not null)
            {
                await file.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The day's file, or the first numbered continuation that still has room.</summary>
    private string NextFile(string day)
    {
        for (var n = 0; ; n++)
        {
            var path = Path.Combine(_directory, n == 0 ? $"requests-{day}.jsonl" : $"requests-{day}.{n}.jsonl");
            var info = new FileInfo(path);
            if (!info.Exists || info.Length < _fileLimit)
            {
                return path;
            }
        }
    }

    /// <summary>Deletes the oldest log files until the directory is within its total size limit (never the file in use).</summary>
    private void EnforceTotalLimit(string current)
    {
        try
        {
            var files = new DirectoryInfo(_directory).GetFiles("requests-*.jsonl")
                .OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal).ToList();
            var total = files.Sum(f => f.Length);
            foreach (var f in files)
            {
                if (total <= _totalLimit)
                {
                    break;
                }
                if (f.FullName == current)
                {
                    continue;
                }
                total -= f.Length;
                f.Delete();
                _logger.LogInformation("Request log over its size limit: deleted {File}", f.Name);
            }
        }
        catch (IOException ex)
        {
            _logger.LogWarning(ex, "Cannot enforce the request log size limit in {Directory}", _directory);
        }
    }

    private static FileStream OpenAppend(string path) =>
        new(path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite, BufferSize = 64 * 1024 });

    /// <summary>Stops accepting records and waits until every queued record is on disk.</summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        // Never started (an engine used without Start): the queued records are still written.
        Start();
        await _writer!.ConfigureAwait(false);
    }
}
