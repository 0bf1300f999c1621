namespace Switchyard.Simulators.Bedrock;

/// <summary>What the simulated model answers next (or how the next call fails).</summary>
public sealed record BedrockReply
{
    /// <summary>Answer text; null echoes the last user text as <c>echo: …</c>.</summary>
    public string? Text { get; init; }

    /// <summary>A tool call to make instead of (or after) the text: name and JSON arguments (sent in several pieces when streamed).</summary>
    public (string Name, string ArgumentsJson)? ToolCall { get; init; }

    /// <summary>Reasoning text and signature sent before the answer.</summary>
    public (string Text, string Signature)? Reasoning { get; init; }

    /// <summary>Overrides the stop reason (e.g. <c>guardrail_intervened</c>, <c>max_tokens</c>).</summary>
    public string? StopReason { get; init; }

    /// <summary>Whether the prefix before the last cachePoint is reported as a cache read (true) or a cache write (false).</summary>
    public bool CacheHit { get; init; }

    /// <summary>Fail the call with this HTTP status and <c>x-amzn-ErrorType</c>.</summary>
    public (int Status, string Type, string Message)? Error { get; init; }

    /// <summary>Streams: after this many events, send an exception message (<c>:message-type</c> exception) and end.</summary>
    public (int AfterEvents, string ExceptionType, string Message)? StreamException { get; init; }

    /// <summary>Streams: corrupt the message CRC of event number N (0-based).</summary>
    public int? CorruptEvent { get; init; }

    /// <summary>Answers 200 with this body as it is (an upstream that does not speak Converse).</summary>
    public string? RawBody { get; init; }

    /// <summary>The content type of <see cref="RawBody"/>.</summary>
    public string RawContentType { get; init; } = "application/json";

    public static BedrockReply Raw(string body, string contentType = "application/json") => new() { RawBody = body, RawContentType = contentType };

    public static BedrockReply Fail(int status, string type, string message) => new() { Error = (status, type, message) };
}
