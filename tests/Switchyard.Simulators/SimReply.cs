namespace Switchyard.Simulators;

/// <summary>A response an endpoint wants sent, kept separate from the transport so faults can reshape delivery.</summary>
internal sealed class SimReply
{
    private SimReply(int status, string contentType, byte[]? body, IReadOnlyList<byte[]>? events, IReadOnlyDictionary<string, string>? headers)
    {
        Status = status;
        ContentType = contentType;
        Body = body;
        Events = events;
        Headers = headers;
    }

    public int Status { get; }

    public string ContentType { get; }

    /// <summary>Whole body of a non-streaming reply.</summary>
    public byte[]? Body { get; }

    /// <summary>Complete server-sent-event frames of a streaming reply, each written and flushed on its own.</summary>
    public IReadOnlyList<byte[]>? Events { get; }

    public IReadOnlyDictionary<string, string>? Headers { get; }

    public static SimReply Json(int status, byte[] body, IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, "application/json", body, null, headers);

    public static SimReply Json(byte[] body) => Json(200, body);

    public static SimReply Bytes(string contentType, byte[] body) => new(200, contentType, body, null, null);

    public static SimReply Bytes(int status, string contentType, byte[] body) => new(status, contentType, body, null, null);

    public static SimReply Stream(IReadOnlyList<byte[]> events) => new(200, "text/event-stream; charset=utf-8", null, events, null);
}
