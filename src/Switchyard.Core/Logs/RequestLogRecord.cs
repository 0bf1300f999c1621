using Switchyard.Core.Usage;

namespace Switchyard.Core.Logs;

/// <summary>What the gateway records about one request: routing decisions, outcome, timing and usage (no bodies).</summary>
public sealed record RequestLogRecord
{
    public required string TraceId { get; init; }

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
}
