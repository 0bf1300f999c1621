using Switchyard.Core.Usage;

namespace Switchyard.Core.Logs;

/// <summary>What the gateway records about one request: routing decisions, outcome, timing, usage and cost, and (unless switched off) the bodies.</summary>
public sealed record RequestLogRecord
{
    public required string TraceId { get; init; }

    /// <summary>The record's own id (<c>_id</c>, the object name in a bucket): the trace id when the gateway made it, else a new UUIDv7.</summary>
    public string? LogId { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required string Method { get; init; }

    public required string Path { get; init; }

    /// <summary>Portkey's fn name, e.g. <c>chatComplete</c>.</summary>
    public required string Function { get; init; }

    /// <summary><c>headers</c>, <c>inline</c> or <c>named</c>.</summary>
    public string? ConfigMode { get; init; }

    /// <summary>The named config's file, when one was used.</summary>
    public string? ConfigName { get; init; }

    public string? Provider { get; init; }

    /// <summary>The gateway API key's name (<c>api_key_name</c>), when keys are required.</summary>
    public string? ApiKeyName { get; init; }

    /// <summary>The gateway API key's team.</summary>
    public string? Team { get; init; }

    /// <summary>The virtual key's slug (<c>virtual_key</c>), never its credentials.</summary>
    public string? VirtualKey { get; init; }

    public string? RequestModel { get; init; }

    public string? ResponseModel { get; init; }

    public string? OptionPath { get; init; }

    public int RetryAttemptCount { get; init; }

    public required int Status { get; init; }

    public bool Stream { get; init; }

    /// <summary>Gateway error category when the gateway answered itself.</summary>
    public string? Error { get; init; }

    /// <summary>Time until response headers were sent to the client.</summary>
    public double TimeToHeadersMs { get; init; }

    /// <summary>Time until the first byte of the response body was handed on.</summary>
    public double TimeToFirstByteMs { get; init; }

    public double DurationMs { get; init; }

    public long ResponseBytes { get; init; }

    /// <summary>The client disconnected before the response ended.</summary>
    public bool ClientAborted { get; init; }

    public TokenUsage? Usage { get; init; }

    /// <summary><c>x-portkey-cache-status</c> of the answer; a hit's usage is what the stored answer reported, not billed again.</summary>
    public string? CacheStatus { get; init; }

    /// <summary>Every attempt made, in order (target, status, retry, why the router moved on).</summary>
    public IReadOnlyList<Pipeline.AttemptRecord> Attempts { get; init; } = [];

    /// <summary>Guardrail results (Portkey's <c>hook_results</c>), when any hook ran.</summary>
    public System.Text.Json.Nodes.JsonObject? HookResults { get; init; }

    /// <summary>Where the usage came from: <c>provider</c> (the provider's own fields) or <c>estimated</c> (the tokenizer); null without usage.</summary>
    public string? UsageSource { get; init; }

    /// <summary>The price of the usage in USD; null when the model is not in the price table (never 0 for "unknown").</summary>
    public decimal? Cost { get; init; }

    /// <summary>The request path with its query string, as the client sent it.</summary>
    public string? Url { get; init; }

    /// <summary>The client's request headers, secrets already redacted (see <see cref="SecretNames"/>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> RequestHeaders { get; init; } = [];

    /// <summary>The client's <c>x-portkey-metadata</c> object (JSON text), when valid.</summary>
    public string? Metadata { get; init; }

    /// <summary>Headers copied into the metadata by <c>HEADERS_TO_METADATA</c>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> HeaderMetadata { get; init; } = [];

    /// <summary>Whether bodies are written (the setting, the config's <c>logging</c> and <c>x-portkey-debug</c> agree).</summary>
    public bool LogBodies { get; init; }

    /// <summary>The most bytes of each body written; longer bodies are cut and marked.</summary>
    public int MaxBodyBytes { get; init; }

    public ReadOnlyMemory<byte> RequestBody { get; init; }

    public string? RequestContentType { get; init; }

    /// <summary>The answer as relayed (first bytes up to the capture limit); null when nothing was captured.</summary>
    public Bodies.BodyCapture? ResponseBody { get; init; }

    public string? ResponseContentType { get; init; }

    /// <summary>
    /// For an MCP request (the MCP gateway's records): the <c>mcp</c> object of the document (route, server, method, tool,
    /// outcome, sizes, session, protocol versions, request id); the document then also carries <c>"kind": "mcp"</c>.
    /// </summary>
    public System.Text.Json.Nodes.JsonObject? Mcp { get; init; }
}
