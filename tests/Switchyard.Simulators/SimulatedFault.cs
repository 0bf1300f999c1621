namespace Switchyard.Simulators;

/// <summary>A scripted misbehaviour applied to the next request that matches it.</summary>
public sealed record SimulatedFault
{
    /// <summary>What the fault does.</summary>
    public required FaultKind Kind { get; init; }

    /// <summary>Only requests whose path contains this text consume the fault; null matches every request.</summary>
    public string? PathContains { get; init; }

    /// <summary>Status code for <see cref="FaultKind.Error"/>.</summary>
    public int StatusCode { get; init; } = 500;

    /// <summary>Overrides the error message for <see cref="FaultKind.Error"/>.</summary>
    public string? Message { get; init; }

    /// <summary>Extra response headers for <see cref="FaultKind.Error"/> (for example <c>retry-after</c>).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Wait used by <see cref="FaultKind.Delay"/> and <see cref="FaultKind.SlowFirstByte"/>.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>The body sent by <see cref="FaultKind.Body"/>.</summary>
    public string? Body { get; init; }

    /// <summary>The content type of <see cref="Body"/>.</summary>
    public string ContentType { get; init; } = "application/json";

    /// <summary>Stream events sent before <see cref="FaultKind.CutStream"/> aborts the connection.</summary>
    public int EventsBeforeCut { get; init; }

    /// <summary>An error response with optional retry hints.</summary>
    public static SimulatedFault Error(int statusCode, string? retryAfterSeconds = null, string? retryAfterMs = null, string? message = null)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (retryAfterSeconds is not null)
        {
            headers["retry-after"] = retryAfterSeconds;
        }

        if (retryAfterMs is not null)
        {
            headers["retry-after-ms"] = retryAfterMs;
        }

        return new SimulatedFault { Kind = FaultKind.Error, StatusCode = statusCode, Message = message, Headers = headers };
    }

    /// <summary>Wait before the response headers, then answer normally.</summary>
    public static SimulatedFault Delayed(TimeSpan delay) => new() { Kind = FaultKind.Delay, Delay = delay };

    /// <summary>Headers at once, body after <paramref name="delay"/>.</summary>
    public static SimulatedFault SlowFirstByte(TimeSpan delay) => new() { Kind = FaultKind.SlowFirstByte, Delay = delay };

    /// <summary>Send <paramref name="events"/> stream events, then abort the connection.</summary>
    public static SimulatedFault CutStreamAfter(int events) => new() { Kind = FaultKind.CutStream, EventsBeforeCut = events };

    /// <summary>200 with a truncated JSON body.</summary>
    public static SimulatedFault MalformedJson() => new() { Kind = FaultKind.MalformedJson };

    /// <summary>Answers <paramref name="body"/> as it is, with <paramref name="status"/> (200 by default) and <paramref name="contentType"/>.</summary>
    public static SimulatedFault RawBody(string body, string contentType = "application/json", int status = 200) =>
        new() { Kind = FaultKind.Body, Body = body, ContentType = contentType, StatusCode = status };

    /// <summary>No response until the client gives up.</summary>
    public static SimulatedFault Hang() => new() { Kind = FaultKind.Hang };
}
