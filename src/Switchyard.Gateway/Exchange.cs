using System.Diagnostics;
using Switchyard.Core.Errors;
using Switchyard.Core.Logs;
using Switchyard.Core.Requests;
using Switchyard.Core.Routing;
using Switchyard.Core.Translation;
using Switchyard.Core.Usage;

namespace Switchyard.Gateway;

/// <summary>What one request/response exchange accumulates on its way through the endpoint, turned into a log record at the end.</summary>
internal sealed class Exchange(string traceId)
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly DateTimeOffset _startedAt = DateTimeOffset.UtcNow;
    private long _headersSent;

    public string TraceId { get; } = traceId;

    public GatewayRequest? Request { get; set; }

    public RoutePlan? Plan { get; set; }

    public RouteOutcome? Outcome { get; set; }

    public GatewayError? Error { get; set; }

    public ResponseTap? Tap { get; set; }

    public long ResponseBytes { get; set; }

    public bool ClientAborted { get; set; }

    public void MarkHeadersSent() => _headersSent = Stopwatch.GetTimestamp();

    public RequestLogRecord ToRecord(HttpContext context)
    {
        var (usage, responseModel) = Tap?.Read() ?? (null, null);
        if (Outcome?.Response?.Content is IUsageSource source && source.Usage.Usage is not null)
        {
            // Translated or usage-stripped responses know their usage in canonical form, whatever the client's protocol.
            (usage, responseModel) = (source.Usage.Usage, source.Usage.Model ?? responseModel);
        }
        var request = Request;
        var facts = request is not null && request.Endpoint.HasJsonBody() ? request.BodyFacts : default;
        return new RequestLogRecord
        {
            TraceId = TraceId,
            StartedAt = _startedAt,
            Method = context.Request.Method,
            Path = context.Request.Path.Value ?? "",
            Function = request?.Endpoint.FnName() ?? "unknown",
            ConfigMode = Plan?.Mode,
            ConfigName = Plan?.Mode == "named" ? Plan.Config.Source : null,
            Provider = Outcome?.Provider ?? Error?.Provider,
            RequestModel = facts.Model,
            ResponseModel = responseModel,
            OptionPath = Outcome?.LastUsedOptionIndex,
            RetryAttemptCount = Outcome?.RetryAttemptCount ?? 0,
            Status = context.Response.StatusCode,
            Stream = facts.Stream,
            Error = (Error ?? Outcome?.Error)?.Category.ToString(),
            TimeToHeadersMs = _headersSent == 0 ? 0 : Stopwatch.GetElapsedTime(_started, _headersSent).TotalMilliseconds,
            DurationMs = Stopwatch.GetElapsedTime(_started).TotalMilliseconds,
            ResponseBytes = ResponseBytes,
            ClientAborted = ClientAborted,
            Usage = usage,
            CacheStatus = Outcome?.CacheStatus,
        };
    }
}
