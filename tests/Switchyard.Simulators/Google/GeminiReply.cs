namespace Switchyard.Simulators.Google;

/// <summary>What the simulated Gemini model answers next (otherwise it echoes the last user text).</summary>
public sealed record GeminiReply
{
    /// <summary>Answer text; null echoes the user.</summary>
    public string? Text { get; init; }

    /// <summary>Function calls to make (name, args as a JSON object text), each sent whole in one part.</summary>
    public IReadOnlyList<(string Name, string ArgsJson)> FunctionCalls { get; init; } = [];

    /// <summary>A thought signature to attach to each function-call part.</summary>
    public string? ThoughtSignature { get; init; }

    /// <summary>Replaces the finish reason (e.g. <c>SAFETY</c>, <c>RECITATION</c>); the text is dropped for SAFETY.</summary>
    public string? FinishReason { get; init; }

    /// <summary>The prompt is blocked: no candidates, <c>promptFeedback.blockReason</c> set.</summary>
    public string? PromptBlockReason { get; init; }

    /// <summary>Reported as <c>cachedContentTokenCount</c> (part of the prompt count) when above 0.</summary>
    public int CachedTokens { get; init; }

    /// <summary>Error status to answer with instead (Google's error body).</summary>
    public int? ErrorStatus { get; init; }

    public string? ErrorMessage { get; init; }

    /// <summary>Answers 200 with this body as it is (an upstream that does not speak Gemini).</summary>
    public string? RawBody { get; init; }

    /// <summary>The content type of <see cref="RawBody"/>.</summary>
    public string RawContentType { get; init; } = "application/json";

    public static GeminiReply Raw(string body, string contentType = "application/json") => new() { RawBody = body, RawContentType = contentType };

    public static GeminiReply Say(string text) => new() { Text = text };

    public static GeminiReply Call(string name, string argsJson, string? signature = null) =>
        new() { FunctionCalls = [(name, argsJson)], ThoughtSignature = signature };

    public static GeminiReply Safety() => new() { FinishReason = "SAFETY" };

    public static GeminiReply BlockedPrompt(string reason = "SAFETY") => new() { PromptBlockReason = reason };

    public static GeminiReply Error(int status, string? message = null) => new() { ErrorStatus = status, ErrorMessage = message };
}
