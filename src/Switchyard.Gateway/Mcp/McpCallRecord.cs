namespace Switchyard.Gateway.Mcp;

/// <summary>One MCP request the gateway served (every method, not only <c>tools/call</c>), for the request log, metrics and traces.</summary>
public sealed record McpCallRecord
{
    public required DateTimeOffset StartedAt { get; init; }

    public required TimeSpan Duration { get; init; }

    public required McpCaller Caller { get; init; }

    /// <summary>The downstream route (<c>everything</c>, <c>acme/fs</c>, <c>v/dev</c>).</summary>
    public required string Route { get; init; }

    /// <summary>The upstream server id the request went to; null for requests answered by the gateway alone (initialize, ping, aggregated lists).</summary>
    public string? Server { get; init; }

    /// <summary>The JSON-RPC method (<c>tools/call</c>, <c>tools/list</c>, <c>resources/read</c>, …).</summary>
    public required string Method { get; init; }

    /// <summary>The tool or prompt name (upstream's own), or the resource URI.</summary>
    public string? Target { get; init; }

    /// <summary><c>ok</c>, <c>tool_error</c> (a result with <c>isError: true</c>), <c>error</c> (a JSON-RPC error), <c>denied</c>, <c>rate_limited</c>, <c>cancelled</c>, <c>timeout</c>, <c>upstream_unavailable</c>.</summary>
    public required string Outcome { get; init; }

    /// <summary>The JSON-RPC error code or a short error text, when the outcome is not ok.</summary>
    public string? Error { get; init; }

    /// <summary>Serialized size of the request's arguments, in bytes.</summary>
    public long ArgumentBytes { get; init; }

    /// <summary>Serialized size of the result, in bytes.</summary>
    public long ResultBytes { get; init; }

    /// <summary>The downstream session id (legacy era), or null for a stateless 2026-07-28 request.</summary>
    public string? SessionId { get; init; }

    /// <summary>The protocol version the client speaks.</summary>
    public string? ProtocolVersion { get; init; }

    /// <summary>The protocol version the upstream speaks, when one was involved.</summary>
    public string? UpstreamProtocolVersion { get; init; }

    /// <summary>The JSON-RPC request id as the client sent it.</summary>
    public string? RequestId { get; init; }
}

/// <summary>Receives every completed MCP request (request log, metrics, traces). Must not throw or block.</summary>
public interface IMcpCallObserver
{
    void OnCompleted(McpCallRecord record);
}
