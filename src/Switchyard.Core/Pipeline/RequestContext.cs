using System.Diagnostics;
using Switchyard.Core.Caching;
using System.Text.Json.Nodes;
using Switchyard.Core.Errors;
using Switchyard.Core.Guardrails;
using Switchyard.Core.Logs;
using Switchyard.Core.Requests;
using Switchyard.Core.Routing;
using Switchyard.Core.Usage;

namespace Switchyard.Core.Pipeline;

/// <summary>
/// Everything one request accumulates on its way through the pipeline: identity, routing decisions, attempts, usage,
/// guardrail results and timings. Steps read and write it; when the response has been delivered (or abandoned) it is
/// completed once, which turns it into the request-log record.
/// </summary>
public sealed class RequestContext : IUsageSink
{
    private readonly long _started;
    private long _headersAt;
    private long _firstByteAt;
    private long _completedAt;
    private int _completed;
    private List<Action<RequestContext>>? _onCompleted;
    private readonly Action<RequestContext>? _finish;
    private List<AttemptRecord>? _attempts;
    private List<Task>? _pendingLogWork;
    private Lock? _hookLock; // created on first use: most requests have no hooks
    private int _stream; // 0 not a stream, 1 counted in, 2 counted out

    private Lock HookLock => Volatile.Read(ref _hookLock) ?? Interlocked.CompareExchange(ref _hookLock, new Lock(), null) ?? _hookLock;

    /// <param name="finish">Runs last when the request completes (the engine writes the log record there).</param>
    public RequestContext(string traceId, TimeProvider time, bool wantsUsage = false, Action<RequestContext>? finish = null)
    {
        _finish = finish;
        TraceId = traceId;
        Time = time;
        WantsUsage = wantsUsage;
        StartedAt = time.GetUtcNow();
        _started = time.GetTimestamp();
    }

    public string TraceId { get; }

    /// <summary>The log record's id: the trace id when the gateway made it; a new id when the client named the trace (several requests may share one).</summary>
    public string? LogId { get; init; }

    /// <summary>How many bytes of the answer to keep for the log record (0: none).</summary>
    internal int CaptureLimit { get; init; }

    /// <summary>The answer's first bytes as relayed, for the log record; made when the answer starts.</summary>
    public Logs.Bodies.BodyCapture? ResponseCapture { get; internal set; }

    /// <summary>The answer's content type as relayed.</summary>
    public string? ResponseContentType { get; internal set; }

    /// <summary>The price of <see cref="Usage"/> in USD; null when the model has no price (or there is no usage).</summary>
    public decimal? Cost { get; set; }

    /// <summary><c>provider</c> when <see cref="Usage"/> came from the provider's own fields, <c>estimated</c> when the tokenizer counted it.</summary>
    public string? UsageSource { get; set; }

    /// <summary>The client's <c>x-portkey-trace-id</c> when it could not be used (it is answered with a 400).</summary>
    public string? RejectedTraceId { get; init; }

    /// <summary>The request's span, when tracing is on.</summary>
    public Activity? Activity { get; set; }

    /// <summary>The span of the attempt whose answer is being delivered: it ends with the request, not with the response headers.</summary>
    internal Activity? AnswerSpan { get; set; }

    /// <summary>Where a streamed answer counts itself while it is delivered (the engine's <c>switchyard.streams.active</c>).</summary>
    internal Telemetry.ActiveStreamCounter? Streams { get; init; }

    /// <summary>The authenticated caller; anonymous until gateway keys exist.</summary>
    public CallerIdentity Caller { get; set; } = CallerIdentity.Anonymous;

    public TimeProvider Time { get; }

    public DateTimeOffset StartedAt { get; }

    public GatewayRequest? Request { get; set; }

    public RoutePlan? Plan { get; set; }

    /// <summary>The gateway's own failure, when it answered with one.</summary>
    public GatewayError? Error { get; set; }

    /// <summary>The status the client was (or will be) sent.</summary>
    public int Status { get; set; }

    /// <summary>The gateway API key's name (or the JWT's subject), when authentication admitted the request.</summary>
    public string? ApiKeyName => ApiKey?.Name;

    /// <summary>The gateway API key's team.</summary>
    public string? Team => ApiKey?.Team;

    /// <summary>The caller's key (or the identity a JWT yielded), with its allow lists, limits and budgets; null when <c>AUTH_MODE=none</c>.</summary>
    public Security.ApiKeys.ApiKey? ApiKey { get; set; }

    /// <summary>What the request reserved against rate limits and budgets; settled when it completes.</summary>
    public Limits.LimitReservation? LimitReservation { get; set; }

    /// <summary>The slug of the virtual key whose credentials the answering target used, if any.</summary>
    public string? VirtualKey { get; set; }

    /// <summary><c>x-portkey-provider</c>: the provider of the leaf that answered.</summary>
    public string? Provider { get; set; }

    /// <summary><c>x-portkey-last-used-option-index</c>; null before routing reached a node.</summary>
    public string? LastUsedOptionIndex { get; set; }

    /// <summary><c>x-portkey-retry-attempt-count</c>.</summary>
    public int RetryAttemptCount { get; set; }

    /// <summary><c>x-portkey-cache-status</c>.</summary>
    public string CacheStatus { get; set; } = Caching.CacheStatus.Disabled;

    /// <summary>Every upstream attempt, cache answer and guardrail denial, in order.</summary>
    public IReadOnlyList<AttemptRecord> Attempts => (IReadOnlyList<AttemptRecord>?)_attempts ?? [];

    public bool WantsUsage { get; }

    public TokenUsage? Usage { get; private set; }

    public string? ResponseModel { get; private set; }

    public long ResponseBytes { get; internal set; }

    public bool ClientAborted { get; set; }

    /// <summary>The upstream broke off after the response had started.</summary>
    public bool UpstreamBroke { get; set; }

    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    /// <summary>Hooks from <c>x-portkey-default-input-guardrails</c>, run at every leaf after the leaf's own before-request hooks.</summary>
    public IReadOnlyList<HookDefinition> DefaultBeforeHooks { get; set; } = [];

    /// <summary>Hooks from <c>x-portkey-default-output-guardrails</c>, run at every leaf after the leaf's own after-request hooks.</summary>
    public IReadOnlyList<HookDefinition> DefaultAfterHooks { get; set; } = [];

    /// <summary>The guardrail state of the last leaf that ran hooks with async ones (their run after delivery reads it).</summary>
    internal object? GuardrailState { get; set; }

    internal bool AsyncHooksScheduled { get; set; }

    /// <summary>Before-request hook results of the leaf that answered (as sent to the client), plus async results once they finish.</summary>
    public JsonArray? BeforeHookResults { get; private set; }

    /// <summary>After-request hook results of the last attempt, plus async and end-of-stream results once they finish.</summary>
    public JsonArray? AfterHookResults { get; private set; }

    /// <summary>Replaces the hook results (a new leaf or a new attempt); null leaves a side as it is.</summary>
    public void SetHookResults(JsonArray? before, JsonArray? after)
    {
        lock (HookLock)
        {
            if (before is not null)
            {
                BeforeHookResults = before;
            }
            if (after is not null)
            {
                AfterHookResults = after;
            }
        }
    }

    /// <summary>Adds results that arrive after the answer (async hooks, checks run at the end of a stream).</summary>
    public void AppendHookResults(HookEvent ev, IEnumerable<JsonObject> results)
    {
        lock (HookLock)
        {
            var target = ev == HookEvent.BeforeRequest ? BeforeHookResults ??= [] : AfterHookResults ??= [];
            foreach (var r in results)
            {
                target.Add((JsonNode)r.DeepClone());
            }
        }
    }

    /// <summary>How long the request-log record waits for <see cref="AddPendingLogWork"/> tasks after the answer.</summary>
    public static readonly TimeSpan PendingLogWorkLimit = TimeSpan.FromSeconds(30);

    /// <summary>Work whose results belong in this request's log record (async hooks): the record is written when it ends (bounded).</summary>
    public void AddPendingLogWork(Task work)
    {
        lock (HookLock)
        {
            (_pendingLogWork ??= []).Add(work);
        }
    }

    public void ReportUsage(TokenUsage? usage, string? model)
    {
        if (usage is not null)
        {
            Usage = usage;
            UsageSource = "provider";
        }
        ResponseModel = model ?? ResponseModel;
    }

    /// <summary>Usage the gateway counted itself (the provider sent none, or the stream was cut before it did).</summary>
    public void SetEstimatedUsage(TokenUsage usage)
    {
        Usage = usage;
        UsageSource = "estimated";
    }

    public void AddAttempt(AttemptRecord attempt) => (_attempts ??= []).Add(attempt);

    /// <summary>Time since the request arrived.</summary>
    public TimeSpan Elapsed => Time.GetElapsedTime(_started);

    /// <summary>From arrival to completion (the answer's last byte, or the moment it was abandoned); the time so far before that.</summary>
    public TimeSpan Duration => _completedAt == 0 ? Elapsed : Time.GetElapsedTime(_started, _completedAt);

    /// <summary>From arrival to the first byte of the answer's body; null while none has been read.</summary>
    public TimeSpan? TimeToFirstByte => _firstByteAt == 0 ? null : Time.GetElapsedTime(_started, _firstByteAt);

    public void MarkHeadersSent() => _headersAt = _headersAt == 0 ? Time.GetTimestamp() : _headersAt;

    internal void MarkFirstByte() => _firstByteAt = _firstByteAt == 0 ? Time.GetTimestamp() : _firstByteAt;

    /// <summary>The answer is a stream whose body has started: counted as active until the request completes.</summary>
    internal void StreamStarted()
    {
        if (Streams is not { } streams || Interlocked.CompareExchange(ref _stream, 1, 0) != 0)
        {
            return;
        }
        streams.Increment();
        if (IsCompleted)
        {
            // Completed while this stream was starting: count it out again.
            StreamEnded();
        }
    }

    private void StreamEnded()
    {
        if (Interlocked.CompareExchange(ref _stream, 2, 1) == 1)
        {
            Streams!.Decrement();
        }
    }

    /// <summary>Runs <paramref name="action"/> once the response has been delivered or abandoned (budget settlement, async hooks).</summary>
    public void OnCompleted(Action<RequestContext> action) => (_onCompleted ??= []).Add(action);

    /// <summary>Ends the request: the first call wins and runs the completion actions; later calls do nothing.</summary>
    public void Complete()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }
        _completedAt = Time.GetTimestamp();
        StreamEnded();
        if (_onCompleted is { } actions)
        {
            foreach (var action in actions)
            {
                action(this);
            }
        }
        Task[]? pending = null;
        if (Volatile.Read(ref _hookLock) is { } hookLock)
        {
            lock (hookLock)
            {
                pending = _pendingLogWork?.ToArray();
            }
        }
        if (pending is null || _finish is null)
        {
            _finish?.Invoke(this);
            return;
        }
        _ = FinishAfterAsync(pending);
    }

    private async Task FinishAfterAsync(Task[] pending)
    {
        try
        {
            await Task.WhenAll(pending).WaitAsync(PendingLogWorkLimit, Time).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A hook that failed or ran past the bound costs its results, never the record.
        }
        _finish!.Invoke(this);
    }

    private JsonObject? HookResultsJson()
    {
        if (Volatile.Read(ref _hookLock) is not { } hookLock)
        {
            return null; // nothing was ever set
        }
        lock (hookLock)
        {
            if (BeforeHookResults is null && AfterHookResults is null)
            {
                return null;
            }
            return new JsonObject
            {
                ["before_request_hooks"] = BeforeHookResults?.DeepClone() ?? new JsonArray(),
                ["after_request_hooks"] = AfterHookResults?.DeepClone() ?? new JsonArray(),
            };
        }
    }

    private double Ms(long timestamp) => timestamp == 0 ? 0 : Time.GetElapsedTime(_started, timestamp).TotalMilliseconds;

    /// <summary>The request-log record of this request as it stands.</summary>
    /// <param name="logs">Body logging and header-metadata settings; without them no bodies or headers are recorded.</param>
    public RequestLogRecord ToLogRecord(LogStoreOptions? logs = null)
    {
        var request = Request;
        var facts = request is not null && request.Endpoint.HasJsonBody() ? request.BodyFacts : default;
        var bodies = logs is not null && request is not null && LogBodyPolicy.Bodies(logs, Plan?.Config.Logging, request.Headers);
        return new RequestLogRecord
        {
            LogId = LogId ?? TraceId,
            Url = request is null ? null : request.Path + request.QueryString,
            RequestHeaders = logs is null || request is null ? [] : LogBodyPolicy.RedactedHeaders(request.Headers),
            Metadata = request is null ? null : LogBodyPolicy.Metadata(request.Headers),
            HeaderMetadata = logs is null || request is null ? [] : LogBodyPolicy.HeaderMetadata(logs, request.Headers),
            LogBodies = bodies,
            MaxBodyBytes = logs is null ? 0 : LogBodyPolicy.MaxBodyBytes(logs, Plan?.Config.Logging),
            RequestBody = bodies ? request!.Body : default,
            RequestContentType = request?.ContentType,
            ResponseBody = ResponseCapture,
            ResponseContentType = ResponseContentType,
            UsageSource = Usage is null ? null : UsageSource,
            Cost = Cost,
            TraceId = TraceId,
            StartedAt = StartedAt,
            Method = request?.Method ?? "",
            Path = request?.Path ?? "",
            Function = request?.Endpoint.FnName() ?? "unknown",
            ConfigMode = Plan?.Mode,
            ConfigName = Plan?.Mode == "named" ? Plan.Config.Source : null,
            ApiKeyName = ApiKeyName,
            Team = Team,
            VirtualKey = VirtualKey,
            Provider = Provider ?? Error?.Provider,
            RequestModel = facts.Model,
            ResponseModel = ResponseModel,
            OptionPath = LastUsedOptionIndex,
            RetryAttemptCount = RetryAttemptCount,
            Status = Status,
            Stream = facts.Stream,
            Error = Error?.Category.ToString(),
            TimeToHeadersMs = Ms(_headersAt),
            TimeToFirstByteMs = Ms(_firstByteAt),
            DurationMs = _completedAt == 0 ? Elapsed.TotalMilliseconds : Ms(_completedAt),
            ResponseBytes = ResponseBytes,
            ClientAborted = ClientAborted,
            Usage = Usage,
            CacheStatus = CacheStatus,
            Attempts = Attempts,
            HookResults = HookResultsJson(),
        };
    }
}
