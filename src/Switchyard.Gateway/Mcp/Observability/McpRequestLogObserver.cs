using System.Diagnostics;
using System.Text.Json.Nodes;
using Switchyard.Core.Logs;
using Switchyard.Core.Pipeline;

namespace Switchyard.Gateway.Mcp.Observability;

/// <summary>
/// Writes every MCP request to the same request log as LLM requests (the engine's <see cref="SwitchyardEngine.RequestLog"/>):
/// a <see cref="RequestLogRecord"/> with <c>fn: "mcp"</c>, <c>"kind": "mcp"</c> and an <c>mcp</c> object. Sizes only: argument
/// and result contents are never logged. See docs/mcp-observability.md.
/// </summary>
public sealed class McpRequestLogObserver(IRequestLogSink sink, ILogger<McpRequestLogObserver>? logger = null) : IMcpCallObserver
{
    /// <summary>The <c>fn</c> of MCP records.</summary>
    public const string Function = "mcp";

    public void OnCompleted(McpCallRecord record)
    {
        try
        {
            sink.TryWrite(ToLogRecord(record, TraceIdFor()));
        }
        catch (Exception ex)
        {
            logger?.LogWarning(ex, "The MCP request log record for {Method} on {Route} could not be queued", record.Method, record.Route);
        }
    }

    /// <summary>The trace id the record is filed under: the current span's trace when there is one (so logs and traces join), else a new UUIDv7.</summary>
    private static string TraceIdFor() =>
        Activity.Current is { } current && current.TraceId != default ? current.TraceId.ToHexString() : Guid.CreateVersion7().ToString();

    /// <summary>The request-log record of an MCP request.</summary>
    public static RequestLogRecord ToLogRecord(McpCallRecord r, string traceId)
    {
        ArgumentNullException.ThrowIfNull(r);
        var caller = r.Caller;
        var mcp = new JsonObject
        {
            ["route"] = r.Route,
            ["server"] = r.Server,
            ["method"] = r.Method,
            ["target"] = r.Target,
            ["tool"] = r.Method == "tools/call" ? r.Target : null,
            ["outcome"] = r.Outcome,
            ["error"] = r.Error,
            ["argument_bytes"] = r.ArgumentBytes,
            ["result_bytes"] = r.ResultBytes,
            ["session_id"] = r.SessionId,
            ["protocol_version"] = r.ProtocolVersion,
            ["upstream_protocol_version"] = r.UpstreamProtocolVersion,
            ["request_id"] = r.RequestId,
            ["caller_id"] = caller.Id,
            ["auth_type"] = caller.AuthType,
        };
        foreach (var (name, value) in mcp.ToList())
        {
            if (value is null)
            {
                mcp.Remove(name);
            }
        }
        return new RequestLogRecord
        {
            TraceId = traceId,
            StartedAt = r.StartedAt,
            Method = "POST",
            Path = "/" + r.Route + "/mcp",
            Function = Function,
            Provider = r.Server,
            ApiKeyName = caller.Key?.Name ?? (caller.AuthType == "none" ? null : caller.Name),
            Team = caller.Team,
            Status = StatusOf(r.Outcome),
            Error = r.Outcome == "ok" ? null : r.Error ?? r.Outcome,
            DurationMs = r.Duration.TotalMilliseconds,
            TimeToHeadersMs = r.Duration.TotalMilliseconds,
            TimeToFirstByteMs = r.Duration.TotalMilliseconds,
            ResponseBytes = r.ResultBytes,
            ClientAborted = r.Outcome == "cancelled",
            Mcp = mcp,
        };
    }

    /// <summary>
    /// The HTTP status the outcome stands for: JSON-RPC answers (<c>ok</c>, <c>tool_error</c>, <c>error</c>) travel in a 200; refusals
    /// map to 403 (<c>denied</c>), 429 (<c>rate_limited</c>), 499 (<c>cancelled</c>), 504 (<c>timeout</c>), 502 (<c>upstream_unavailable</c>).
    /// </summary>
    public static int StatusOf(string outcome) => outcome switch
    {
        "denied" => 403,
        "rate_limited" => 429,
        "cancelled" => 499,
        "timeout" => 504,
        "upstream_unavailable" => 502,
        _ => 200,
    };
}
