namespace Switchyard.Simulators.Anthropic;

/// <summary>What the simulated Claude answers to the next request (or how it fails). Unset parts fall back to the default echo answer.</summary>
public sealed class AnthropicReply
{
    /// <summary>The answer text; null → <c>"echo: " + last user text</c>. Empty → no text block.</summary>
    public string? Text { get; init; }

    /// <summary>Tool calls: name and the input as JSON text (sent in pieces when streaming).</summary>
    public IReadOnlyList<(string Name, string InputJson)> ToolCalls { get; init; } = [];

    /// <summary>A thinking block (only returned when the request enabled thinking).</summary>
    public string? Thinking { get; init; }

    /// <summary>The signature sent with <see cref="Thinking"/>; defaults to a value derived from the text.</summary>
    public string? Signature { get; init; }

    /// <summary>A redacted_thinking block's data (only with thinking enabled).</summary>
    public string? RedactedThinking { get; init; }

    /// <summary>Forces the stop_reason (e.g. <c>refusal</c>, <c>pause_turn</c>).</summary>
    public string? StopReason { get; init; }

    /// <summary>Fails the request with this status and an Anthropic error body of <see cref="ErrorType"/>.</summary>
    public int? ErrorStatus { get; init; }

    public string ErrorType { get; init; } = "api_error";

    public string ErrorMessage { get; init; } = "Internal server error";

    /// <summary>When streaming: after this many events, an <c>error</c> event of <see cref="ErrorType"/> ends the stream.</summary>
    public int? StreamErrorAfterEvents { get; init; }

    /// <summary>Answers 200 with this body as it is, whatever the request (an upstream that does not speak Messages).</summary>
    public string? RawBody { get; init; }

    /// <summary>The content type of <see cref="RawBody"/>.</summary>
    public string RawContentType { get; init; } = "application/json";

    public static AnthropicReply Raw(string body, string contentType = "application/json") => new() { RawBody = body, RawContentType = contentType };

    public static AnthropicReply Error(int status, string type, string message) => new() { ErrorStatus = status, ErrorType = type, ErrorMessage = message };
}
