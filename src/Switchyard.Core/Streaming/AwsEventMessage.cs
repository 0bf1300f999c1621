namespace Switchyard.Core.Streaming;

/// <summary>One decoded AWS event-stream message: typed headers and the raw payload.</summary>
public sealed record AwsEventMessage(IReadOnlyDictionary<string, object> Headers, ReadOnlyMemory<byte> Payload)
{
    /// <summary><c>event</c>, <c>exception</c> or <c>error</c>.</summary>
    public string? MessageType => Headers.TryGetValue(":message-type", out var v) ? v as string : null;

    /// <summary>For events, e.g. <c>contentBlockDelta</c> or <c>messageStop</c>.</summary>
    public string? EventType => Headers.TryGetValue(":event-type", out var v) ? v as string : null;

    /// <summary>For exceptions, e.g. <c>throttlingException</c>.</summary>
    public string? ExceptionType => Headers.TryGetValue(":exception-type", out var v) ? v as string : null;
}
