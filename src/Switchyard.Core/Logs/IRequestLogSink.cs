namespace Switchyard.Core.Logs;

/// <summary>Receives request log records; called from the request path, so it must never block.</summary>
public interface IRequestLogSink
{
    /// <summary>Queues a record; false when it had to be dropped (the sink counts and reports drops).</summary>
    bool TryWrite(RequestLogRecord record);
}
