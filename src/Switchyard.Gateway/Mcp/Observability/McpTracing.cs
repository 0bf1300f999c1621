using System.Diagnostics;
using Switchyard.Core.Telemetry;

namespace Switchyard.Gateway.Mcp.Observability;

/// <summary>
/// A server span per MCP request on the gateway's <c>Switchyard</c> activity source, named and attributed by the OpenTelemetry
/// MCP conventions: <c>{mcp.method.name} {target}</c>, <c>mcp.method.name</c>, <c>mcp.session.id</c>, <c>mcp.protocol.version</c>,
/// <c>gen_ai.tool.name</c>, <c>jsonrpc.request.id</c>, <c>error.type</c>. The observer sees completed requests only, so the
/// span is made after the fact with the record's start time and duration; it joins the trace of the span current when the
/// observer is called (the request's own span, when the proxy runs one), else starts a new trace.
/// </summary>
public sealed class McpTracing : IMcpCallObserver
{
    public const string MethodAttribute = "mcp.method.name";
    public const string SessionAttribute = "mcp.session.id";
    public const string ProtocolAttribute = "mcp.protocol.version";
    public const string ResourceAttribute = "mcp.resource.uri";
    public const string ToolAttribute = "gen_ai.tool.name";
    public const string PromptAttribute = "gen_ai.prompt.name";
    public const string RequestIdAttribute = "jsonrpc.request.id";
    public const string RouteAttribute = "switchyard.mcp.route";
    public const string ServerAttribute = "switchyard.mcp.server";
    public const string OutcomeAttribute = "switchyard.mcp.outcome";
    public const string UpstreamProtocolAttribute = "switchyard.mcp.upstream_protocol_version";
    public const string CallerAttribute = "switchyard.mcp.caller";

    public void OnCompleted(McpCallRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var source = TelemetrySource.Activities;
        if (!source.HasListeners())
        {
            return;
        }
        var parent = Activity.Current;
        // ASP.NET Core's own request activity is never exported: adopting it would orphan the span.
        var parentContext = parent is not null && parent.Source == source ? parent.Context : default;
        if (parent is not null && parentContext == default)
        {
            Activity.Current = null;
        }
        try
        {
            using var span = source.StartActivity(SpanName(record), ActivityKind.Server, parentContext, startTime: record.StartedAt);
            if (span is null)
            {
                return;
            }
            if (span.IsAllDataRequested)
            {
                span.SetTag(MethodAttribute, record.Method);
                span.SetTag(SessionAttribute, record.SessionId);
                span.SetTag(ProtocolAttribute, record.ProtocolVersion);
                span.SetTag(RequestIdAttribute, record.RequestId);
                switch (record.Method)
                {
                    case "tools/call":
                        span.SetTag(GenAiConventions.OperationName, "execute_tool");
                        span.SetTag(ToolAttribute, record.Target);
                        break;
                    case "prompts/get":
                        span.SetTag(PromptAttribute, record.Target);
                        break;
                    case "resources/read" or "resources/subscribe" or "resources/unsubscribe":
                        span.SetTag(ResourceAttribute, record.Target);
                        break;
                }
                span.SetTag(RouteAttribute, record.Route);
                span.SetTag(ServerAttribute, record.Server);
                span.SetTag(OutcomeAttribute, record.Outcome);
                span.SetTag(UpstreamProtocolAttribute, record.UpstreamProtocolVersion);
                span.SetTag(CallerAttribute, record.Caller.Name);
            }
            if (record.Outcome != "ok")
            {
                // tool_error is the conventions' value for a result with isError; the other outcomes name themselves.
                span.SetTag(GenAiConventions.ErrorType, record.Outcome);
                span.SetStatus(ActivityStatusCode.Error, record.Error);
            }
            span.SetEndTime((record.StartedAt + record.Duration).UtcDateTime);
        }
        finally
        {
            Activity.Current = parent;
        }
    }

    /// <summary><c>{mcp.method.name} {target}</c>, or the method alone when there is no target.</summary>
    public static string SpanName(McpCallRecord record) =>
        string.IsNullOrEmpty(record.Target) ? record.Method : record.Method + " " + record.Target;
}
