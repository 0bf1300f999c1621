using System.Diagnostics;
using System.Diagnostics.Metrics;
using Switchyard.Core.Caching;
using Switchyard.Core.Guardrails;
using Switchyard.Core.Logs;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Requests;
using static Switchyard.Core.Telemetry.GenAiConventions;

namespace Switchyard.Core.Telemetry;

/// <summary>
/// The engine's instruments, on one meter named <c>Switchyard</c>: GenAI convention series toward clients
/// (<c>gen_ai.server.*</c>) and providers (<c>gen_ai.client.*</c>), and the gateway's own <c>switchyard.*</c> series.
/// A request is recorded once, when it completes, from its <see cref="RequestContext"/>; live values (streams, log
/// delivery, cache store) are read when a scrape asks. Recording allocates nothing: label values are interned or
/// bounded, tags live on the stack, and an instrument nobody listens to is skipped.
/// </summary>
/// <remarks>Each engine owns its meter, so two engines in one process (tests) keep their series apart: see <see cref="Meter"/>.</remarks>
public sealed class SwitchyardMetrics : IDisposable
{
    public const string StatusLabel = HttpStatusCode;
    public const string CacheStatusLabel = "switchyard.cache.status";
    public const string TokenTypeLabel = "switchyard.token.type";
    public const string UsageSourceLabel = "switchyard.usage.source";
    public const string GuardrailEventLabel = "switchyard.guardrail.event";
    public const string GuardrailIdLabel = "switchyard.guardrail.id";
    public const string GuardrailCheckLabel = "switchyard.guardrail.check";
    public const string GuardrailVerdictLabel = "switchyard.guardrail.verdict";
    public const string LogStoreLabel = "switchyard.logs.store";
    public const string CacheStoreLabel = "switchyard.cache.store";
    public const string ApiKeyLabel = "switchyard.api_key";
    public const string TeamLabel = "switchyard.team";
    public const string VirtualKeyLabel = "switchyard.virtual_key";

    // The conventions' advisory buckets: durations 10 ms to 82 s, token counts 1 to 67 M, each step ×2 or ×4.
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

    // Boxed once: an int or bool tag value would otherwise box on every measurement.
    private static readonly object[] Statuses = [.. Enumerable.Range(0, 600).Select(i => (object)i)];
    private static readonly object True = true;
    private static readonly object False = false;

    private readonly Meter _meter;
    private readonly bool _latest;
    private readonly BoundedLabel? _models;
    private readonly BoundedLabel? _responseModels;
    private readonly BoundedLabel _guardrailIds;
    private readonly MetadataLabels? _metadata;
    // Key and virtual-key names come from files, but a JWT's subject is whatever the identity provider says: bound them all.
    private readonly BoundedLabel? _keys;
    private readonly BoundedLabel? _teams;
    private readonly BoundedLabel? _virtualKeys;

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _serverDuration;
    private readonly Histogram<double> _serverTimeToFirstToken;
    private readonly Histogram<double> _clientDuration;
    private readonly Histogram<double> _clientTimeToFirstChunk;
    private readonly Histogram<long>? _tokenUsage;
    private readonly Counter<long>? _inputTokens;
    private readonly Counter<long>? _outputTokens;
    private readonly Counter<long>? _cacheReadTokens;
    private readonly Counter<long>? _cacheWriteTokens;
    private readonly Counter<long>? _reasoningTokens;
    private readonly Counter<long> _tokens;

    /// <summary>True while a meter provider listens to the token or cost counters: requests must then carry a usage tap.</summary>
    public bool CountsUsage => _tokens.Enabled || _cost.Enabled;
    private readonly Counter<double> _cost;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<long> _hookVerdicts;
    private readonly Counter<long> _checkVerdicts;

    public SwitchyardMetrics(TelemetryOptions options)
    {
        // The scope names the owner, so a meter provider can tell this engine's meter from another engine's of the same name.
        _meter = new Meter(new MeterOptions(TelemetrySource.Name) { Version = TelemetrySource.Version, Scope = this });
        _latest = options.LatestGenAiConventions;
        if (options.IncludeModelLabel)
        {
            _models = new BoundedLabel(options.LabelValueLimit);
            _responseModels = new BoundedLabel(options.LabelValueLimit);
        }
        _guardrailIds = new BoundedLabel(options.LabelValueLimit);
        if (options.IncludeCallerLabels)
        {
            _keys = new BoundedLabel(options.LabelValueLimit);
            _teams = new BoundedLabel(options.LabelValueLimit);
            _virtualKeys = new BoundedLabel(options.LabelValueLimit);
        }
        _metadata = options.MetadataLabelKeys.Count > 0 ? new MetadataLabels(options.MetadataLabelKeys, options.LabelValueLimit) : null;
        var durations = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets };

        _requests = _meter.CreateCounter<long>("switchyard.requests", "{request}",
            "Requests answered, by operation, provider, model, status code, cache status and stream");
        _serverDuration = _meter.CreateHistogram("gen_ai.server.request.duration", "s",
            "Time from a request's arrival to the end of its answer (a stream's last byte)", advice: durations);
        _serverTimeToFirstToken = _meter.CreateHistogram("gen_ai.server.time_to_first_token", "s",
            "Time from a streamed request's arrival to the first byte of its answer", advice: durations);
        _clientDuration = _meter.CreateHistogram(_latest ? "gen_ai.client.inference.duration" : "gen_ai.client.operation.duration", "s",
            "Duration of each upstream attempt; the attempt that answers lasts until its body has been delivered", advice: durations);
        _clientTimeToFirstChunk = _meter.CreateHistogram(
            _latest ? "gen_ai.client.inference.time_to_first_chunk" : "gen_ai.client.operation.time_to_first_chunk", "s",
            "Time from the start of the answering upstream attempt to the first byte of its stream", advice: durations);
        if (_latest)
        {
            _inputTokens = _meter.CreateCounter<long>("gen_ai.client.inference.usage.input_tokens", "{token}", "Input tokens providers processed");
            _outputTokens = _meter.CreateCounter<long>("gen_ai.client.inference.usage.output_tokens", "{token}", "Output tokens providers generated");
            _cacheReadTokens = _meter.CreateCounter<long>("gen_ai.client.inference.usage.cache_read.input_tokens", "{token}", "Input tokens read from a provider's prompt cache");
            _cacheWriteTokens = _meter.CreateCounter<long>("gen_ai.client.inference.usage.cache_write.input_tokens", "{token}", "Input tokens written to a provider's prompt cache");
            _reasoningTokens = _meter.CreateCounter<long>("gen_ai.client.inference.usage.reasoning.output_tokens", "{token}", "Output tokens spent on reasoning");
        }
        else
        {
            _tokenUsage = _meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Tokens per provider call, by gen_ai.token.type (input, output)",
                advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        }
        _tokens = _meter.CreateCounter<long>("switchyard.usage.tokens", "{token}",
            "Tokens providers processed, by type: input, output, cache_read, cache_write, reasoning (answers from the gateway's cache are not counted)");
        _cost = _meter.CreateCounter<double>("switchyard.usage.cost", "USD", "Cost of the requests whose price is known, in US dollars");
        _retries = _meter.CreateCounter<long>("switchyard.retries", "{retry}", "Upstream attempts that were retried, by provider and the error that caused the retry");
        _fallbacks = _meter.CreateCounter<long>("switchyard.fallbacks", "{fallback}", "Targets the router moved on from, by provider and the error that caused the fallback");
        _hookVerdicts = _meter.CreateCounter<long>("switchyard.guardrail.verdicts", "{hook}", "Guardrail hook runs, by event, hook id and verdict (passed, failed, denied)");
        _checkVerdicts = _meter.CreateCounter<long>("switchyard.guardrail.check.verdicts", "{check}", "Guardrail check runs, by event, check id and verdict (passed, failed, error)");
        _meter.CreateObservableUpDownCounter("switchyard.streams.active", () => Streams.Active, "{stream}", "Streamed answers being delivered");
    }

    /// <summary>The engine's meter. A meter provider serving one engine keeps only this meter's instruments (see the gateway's metrics setup).</summary>
    public Meter Meter => _meter;

    /// <summary>Streams being delivered; the context of a streamed answer counts itself in and out.</summary>
    public ActiveStreamCounter Streams { get; } = new();

    /// <summary>Reports a request-log store's queue, spill, deliveries, drops and circuit as <c>switchyard.logs.*</c>.</summary>
    public void Observe(ILogDeliveryStatus logs)
    {
        var store = new KeyValuePair<string, object?>(LogStoreLabel, logs.Store);
        _meter.CreateObservableGauge("switchyard.logs.queue.depth", () => new Measurement<long>(logs.QueueDepth, store), "{record}", "Request-log records waiting in memory for a writer");
        _meter.CreateObservableGauge("switchyard.logs.spill.records", () => new Measurement<long>(logs.SpilledRecords, store), "{record}", "Request-log records in the spill directory, waiting for the store");
        _meter.CreateObservableGauge("switchyard.logs.spill.size", () => new Measurement<long>(logs.SpilledBytes, store), "By", "Bytes the spill directory holds");
        _meter.CreateObservableCounter("switchyard.logs.delivered", () => new Measurement<long>(logs.Delivered, store), "{record}", "Request-log records the store accepted");
        _meter.CreateObservableCounter("switchyard.logs.dropped", () => new Measurement<long>(logs.Dropped, store), "{record}", "Request-log records lost");
        _meter.CreateObservableGauge("switchyard.logs.circuit.open", () => new Measurement<int>(logs.CircuitOpen ? 1 : 0, store), unit: null, description: "1 while the log store's circuit breaker holds writes back");
    }

    /// <summary>Reports whether the response-cache store is answering as <c>switchyard.cache.store.up</c> (1 or 0).</summary>
    public void Observe(ICacheStore store, string name)
    {
        var label = new KeyValuePair<string, object?>(CacheStoreLabel, name);
        _meter.CreateObservableGauge("switchyard.cache.store.up", () => new Measurement<int>(store.Problem is null ? 1 : 0, label), unit: null, description:
            "1 while the response-cache store answers, 0 while it is failing (requests then bypass the cache)");
    }

    /// <summary>Records one completed request: called once per request, after its cost is known.</summary>
    public void Record(RequestContext c)
    {
        var request = c.Request;
        var endpoint = request?.Endpoint ?? EndpointKind.Proxy;
        var facts = request is not null && endpoint.HasJsonBody() ? request.BodyFacts : default;
        var operation = Operation(endpoint);
        var providerSlug = c.Provider ?? c.Error?.Provider;
        var provider = providerSlug is null ? null : Provider(providerSlug);
        var model = _models?.Get(facts.Model);
        var errorType = c.Error is { } error ? ErrorTypeOf(error.Category)
            : ErrorTypeOf(c.Status) ?? (c.ClientAborted ? "client_aborted" : c.UpstreamBroke ? "upstream_broke" : null);

        if (_requests.Enabled)
        {
            var tags = Common(operation, provider, model);
            tags.Add(StatusLabel, Status(c.Status));
            tags.Add(CacheStatusLabel, c.CacheStatus);
            tags.Add(RequestStream, facts.Stream ? True : False);
            if (_metadata is not null && request is not null)
            {
                _metadata.AddTo(ref tags, request.Headers);
            }
            AddCaller(ref tags, c);
            _requests.Add(1, tags);
        }
        if (_serverDuration.Enabled)
        {
            var tags = Common(operation, provider, model);
            AddIfSet(ref tags, ErrorType, errorType);
            _serverDuration.Record(c.Duration.TotalSeconds, tags);
        }
        if (facts.Stream && errorType is null && c.TimeToFirstByte is { } firstByte && _serverTimeToFirstToken.Enabled)
        {
            _serverTimeToFirstToken.Record(firstByte.TotalSeconds, Common(operation, provider, model));
        }
        RecordAttempts(c, operation, facts.Stream);
        if (c.Usage is { } usage && c.CacheStatus is not (CacheStatus.Hit or CacheStatus.SemanticHit))
        {
            RecordUsage(usage, operation, provider, model, _responseModels?.Get(c.ResponseModel), c.UsageSource, c);
        }
        if (c.Cost is { } cost && _cost.Enabled)
        {
            var tags = Common(operation, provider, model);
            AddCaller(ref tags, c);
            _cost.Add((double)cost, tags);
        }
    }

    private void RecordAttempts(RequestContext c, string operation, bool stream)
    {
        var attempts = c.Attempts;
        // The attempt whose answer the client got: the last upstream attempt, when the router did not move on from it.
        var answering = -1;
        for (var i = attempts.Count - 1; i >= 0; i--)
        {
            if (IsUpstream(attempts[i]))
            {
                answering = attempts[i].Outcome == "response" && attempts[i].Reason is null ? i : -1;
                break;
            }
        }
        for (var i = 0; i < attempts.Count; i++)
        {
            var a = attempts[i];
            var provider = a.Provider is null ? null : Provider(a.Provider);
            var model = _models?.Get(a.Model);
            // An answer (the provider's, or a guardrail's 446) fails by its status; a gateway error by its category.
            var errorType = a.Outcome is "response" or "guardrail_denied" ? ErrorTypeOf(a.Status) : a.Outcome;
            if (a.Reason is not null)
            {
                // A guardrail's denial can be retried (446 in on_status_codes) or fallen back from, like a provider's error.
                var counter = a.Reason == "retry" ? _retries : a.Reason == "fallback" ? _fallbacks : null;
                if (counter is { Enabled: true })
                {
                    var tags = Common(operation, provider, model);
                    AddIfSet(ref tags, ErrorType, errorType);
                    counter.Add(1, tags);
                }
            }
            if (!IsUpstream(a))
            {
                continue;
            }
            if (_clientDuration.Enabled)
            {
                var tags = Common(operation, provider, model);
                AddIfSet(ref tags, ErrorType, errorType);
                if (i == answering)
                {
                    AddIfSet(ref tags, ResponseModel, _responseModels?.Get(c.ResponseModel));
                }
                // The answering attempt lasts until the client has its body; the others ended with their headers.
                var seconds = i == answering ? c.Duration.TotalSeconds - a.StartedMs / 1000 : a.DurationMs / 1000;
                _clientDuration.Record(Math.Max(0, seconds), tags);
            }
            if (i == answering && stream && errorType is null && c.TimeToFirstByte is { } firstByte && _clientTimeToFirstChunk.Enabled)
            {
                _clientTimeToFirstChunk.Record(Math.Max(0, firstByte.TotalSeconds - a.StartedMs / 1000), Common(operation, provider, model));
            }
        }
    }

    /// <summary>Who spent it: the gateway key, its team and the virtual key, on the gateway's own request, token and cost series.</summary>
    private void AddCaller(ref TagList tags, RequestContext c)
    {
        if (_keys is null)
        {
            return;
        }
        AddIfSet(ref tags, ApiKeyLabel, _keys.Get(c.ApiKeyName));
        AddIfSet(ref tags, TeamLabel, _teams!.Get(c.Team));
        AddIfSet(ref tags, VirtualKeyLabel, _virtualKeys!.Get(c.VirtualKey));
    }

    private void RecordUsage(Usage.TokenUsage usage, string operation, string? provider, string? model, string? responseModel, string? source, RequestContext c)
    {
        var tags = Common(operation, provider, model);
        AddIfSet(ref tags, ResponseModel, responseModel);
        if (_latest)
        {
            tags.Add(TokenModality, "text");
            Add(_inputTokens!, usage.PromptTokens, tags, always: true);
            Add(_outputTokens!, usage.CompletionTokens, tags, always: true);
            Add(_cacheReadTokens!, usage.CachedPromptTokens, tags, always: false);
            Add(_cacheWriteTokens!, usage.CacheWriteTokens, tags, always: false);
            Add(_reasoningTokens!, usage.ReasoningTokens, tags, always: false);
        }
        else if (_tokenUsage!.Enabled)
        {
            var typed = tags;
            typed.Add(TokenType, "input");
            _tokenUsage.Record(usage.PromptTokens, typed);
            typed = tags;
            typed.Add(TokenType, "output");
            _tokenUsage.Record(usage.CompletionTokens, typed);
        }
        if (!_tokens.Enabled)
        {
            return;
        }
        var counted = Common(operation, provider, model);
        AddIfSet(ref counted, UsageSourceLabel, source);
        AddCaller(ref counted, c);
        CountTokens(counted, "input", usage.PromptTokens, always: true);
        CountTokens(counted, "output", usage.CompletionTokens, always: true);
        CountTokens(counted, "cache_read", usage.CachedPromptTokens, always: false);
        CountTokens(counted, "cache_write", usage.CacheWriteTokens, always: false);
        CountTokens(counted, "reasoning", usage.ReasoningTokens, always: false);
    }

    private void CountTokens(TagList tags, string type, long value, bool always)
    {
        if (value > 0 || always)
        {
            tags.Add(TokenTypeLabel, type);
            _tokens.Add(value, tags);
        }
    }

    private static void Add(Counter<long> counter, long value, in TagList tags, bool always)
    {
        if ((value > 0 || always) && counter.Enabled)
        {
            counter.Add(value, tags);
        }
    }

    /// <summary>Records one guardrail hook run (not a skipped one).</summary>
    public void RecordHook(HookEvent ev, string hookId, bool verdict, bool denied)
    {
        if (!_hookVerdicts.Enabled)
        {
            return;
        }
        _hookVerdicts.Add(1, new TagList
        {
            { GuardrailEventLabel, EventName(ev) },
            { GuardrailIdLabel, _guardrailIds.Get(hookId) },
            { GuardrailVerdictLabel, denied ? "denied" : verdict ? "passed" : "failed" },
        });
    }

    /// <summary>Records one guardrail check run; <paramref name="checkId"/> is a catalog id (<c>default.regexMatch</c>), a bounded set.</summary>
    public void RecordCheck(HookEvent ev, string checkId, bool verdict, bool errored)
    {
        if (!_checkVerdicts.Enabled)
        {
            return;
        }
        _checkVerdicts.Add(1, new TagList
        {
            { GuardrailEventLabel, EventName(ev) },
            { GuardrailCheckLabel, checkId },
            { GuardrailVerdictLabel, verdict ? "passed" : errored ? "error" : "failed" },
        });
    }

    internal static string EventName(HookEvent ev) => ev == HookEvent.BeforeRequest ? "before_request" : "after_request";

    /// <summary>An attempt that went to a provider (not an answer from the cache or a guardrail).</summary>
    private static bool IsUpstream(AttemptRecord a) => a.Outcome is not ("cache_hit" or "guardrail_denied");

    private static TagList Common(string operation, string? provider, string? model)
    {
        var tags = new TagList { { OperationName, operation } };
        AddIfSet(ref tags, ProviderName, provider);
        AddIfSet(ref tags, RequestModel, model);
        return tags;
    }

    private static void AddIfSet(ref TagList tags, string name, string? value)
    {
        if (value is not null)
        {
            tags.Add(name, value);
        }
    }

    private static object Status(int status) => (uint)status < (uint)Statuses.Length ? Statuses[status] : status;

    public void Dispose() => _meter.Dispose();
}
