using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Switchyard.Core.Logs;

/// <summary>
/// The local log store: records go through a bounded channel to one background writer that appends JSON lines to
/// <c>requests-YYYY-MM-DD.jsonl</c> in a directory. The request path only enqueues.
/// </summary>
public sealed class JsonLinesLogWriter : IRequestLogSink, IAsyncDisposable
{
    private readonly Channel<RequestLogRecord> _channel;
    private readonly string _directory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Task _writer;
    private long _dropped;
    private long _written;

    public JsonLinesLogWriter(string directory, int capacity, ILogger logger, TimeProvider? time = null)
    {
        _directory = Path.GetFullPath(directory);
        _logger = logger;
        _time = time ?? TimeProvider.System;
        System.IO.Directory.CreateDirectory(_directory);
        _channel = Channel.CreateBounded<RequestLogRecord>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.DropWrite,
        });
        _writer = Task.Run(WriteLoopAsync);
    }

    public string Directory => _directory;

    /// <summary>Records dropped because the writer could not keep up (also logged).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public long Written => Interlocked.Read(ref _written);

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
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var record))
                {
                    var day = record.StartedAt.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
                    if (day != currentDay || file is null)
                    {
                        if (file is not null)
                        {
                            await file.DisposeAsync().ConfigureAwait(false);
                        }
                        file = OpenAppend(Path.Combine(_directory, $"requests-{day}.jsonl"));
                        currentDay = day;
                    }
                    try
                    {
                        RequestLogJson.Write(file, record);
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

    private static FileStream OpenAppend(string path) =>
        new(path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite, BufferSize = 64 * 1024 });

    /// <summary>Stops accepting records and waits until every queued record is on disk.</summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }
}
