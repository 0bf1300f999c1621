using System.Diagnostics;
using Switchyard.Core.Caching;
using Switchyard.Core.Guardrails;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Requests;
using Switchyard.Core.Routing;
using static Switchyard.Core.Telemetry.GenAiConventions;

namespace Switchyard.Core.Telemetry;

/// <summary>
/// The gateway's spans, all from <see cref="TelemetrySource.Activities"/>: the request (server kind, continuing an
/// incoming W3C <c>traceparent</c>), each upstream attempt (client kind, its context sent upstream in
/// <c>traceparent</c>), the cache lookup and the guardrail runs. Spans are named and attributed by the GenAI
/// conventions. Every method first asks whether anyone listens: with tracing off nothing is created or allocated.
/// </summary>
public sealed class SwitchyardTracing(bool latestConventions)
{
    public const string TraceIdAttribute = "switchyard.trace_id";
    public const string OptionPathAttribute = "switchyard.option_path";
    public const string RetryAttribute = "switchyard.retry";
    public const string CostAttribute = "switchyard.usage.cost";
    public const string ClientAbortedAttribute = "switchyard.client_aborted";
    public const string CacheLookupSpan = "cache.lookup";

    private static ActivitySource Source => TelemetrySource.Activities;

    /// <summary>True when a tracer listens to the <c>Switchyard</c> source.</summary>
    public static bool IsEnabled => Source.HasListeners();

    /// <summary>
    /// Starts the request span, from the moment the request arrived, as a child of the client's <c>traceparent</c> when
    /// it sent a valid one and as the root of a new trace otherwise, and puts it on <see cref="RequestContext.Activity"/>.
    /// It ends when the context completes.
    /// </summary>
    public void StartRequest(RequestContext context, GatewayRequest request)
    {
        if (!Source.HasListeners())
        {
            return;
        }
        ActivityContext parent = default;
        if (request.Headers.Get("traceparent") is { } traceparent
            && ActivityContext.TryParse(traceparent, request.Headers.Get("tracestate"), isRemote: true, out var incoming))
        {
            parent = incoming;
        }
        else if (Activity.Current is not null)
        {
            // Without a parent the source would adopt the ambient activity: in the server that is ASP.NET Core's own
            // request activity, never exported and never sampled, which would orphan or drop the whole trace.
            Activity.Current = null;
        }
        var facts = request.Endpoint.HasJsonBody() ? request.BodyFacts : default;
        var operation = Operation(request.Endpoint);
        var span = Source.StartActivity(SpanName(operation, facts.Model), ActivityKind.Server, parent, startTime: context.StartedAt);
        if (span is null)
        {
            return;
        }
        context.Activity = span;
        if (span.IsAllDataRequested)
        {
            span.SetTag(OperationName, operation);
            span.SetTag(RequestModel, facts.Model);
            if (facts.Stream)
            {
                span.SetTag(RequestStream, true);
            }
            span.SetTag(HttpRequestMethod, request.Method);
            span.SetTag(UrlPath, request.Path);
            span.SetTag(TraceIdAttribute, context.TraceId);
        }
    }

    /// <summary>Starts an attempt's span (client kind) under the request span; null when nobody listens.</summary>
    public Activity? StartAttempt(LeafExchange leaf, string? model)
    {
        if (!Source.HasListeners())
        {
            return null;
        }
        var context = leaf.Context;
        var operation = Operation(leaf.Request.Endpoint);
        var span = Source.StartActivity(SpanName(operation, model), ActivityKind.Client, context.Activity?.Context ?? default,
            startTime: context.Time.GetUtcNow());
        if (span is { IsAllDataRequested: true })
        {
            var provider = Provider(leaf.Target.Provider.Slug);
            span.SetTag(OperationName, operation);
            span.SetTag(ProviderName, provider);
            if (!latestConventions)
            {
                span.SetTag(LegacySystem, provider);
            }
            span.SetTag(RequestModel, model);
            if (leaf.Request.BodyFacts.Stream)
            {
                span.SetTag(RequestStream, true);
            }
            span.SetTag(OptionPathAttribute, leaf.Leaf.OptionPath);
            span.SetTag(RetryAttribute, leaf.Attempt);
        }
        return span;
    }

    /// <summary>
    /// Sends the attempt's context upstream as <c>traceparent</c> (and <c>tracestate</c>), so the provider's spans join
    /// the trace. A <c>traceparent</c> the config forwards from the client on purpose (<c>forward_headers</c>) is kept.
    /// </summary>
    public static void Propagate(Activity span, HttpRequestMessage message)
    {
        if (message.Headers.Contains("traceparent"))
        {
            return;
        }
        message.Headers.TryAddWithoutValidation("traceparent", span.Id);
        if (span.TraceStateString is { Length: > 0 } state)
        {
            message.Headers.TryAddWithoutValidation("tracestate", state);
        }
    }

    /// <summary>
    /// Ends an attempt's span with its status; a successful answer's span stays open until the request completes
    /// (its body is still to come) when the request has a span that will close it.
    /// </summary>
    public static void EndAttempt(Activity span, LeafExchange leaf, RouteOutcome outcome, Uri? upstream)
    {
        var status = outcome.Status;
        if (span.IsAllDataRequested)
        {
            span.SetTag(HttpStatusCode, status);
            if (upstream is { IsAbsoluteUri: true })
            {
                span.SetTag(ServerAddress, upstream.Host);
                span.SetTag(ServerPort, upstream.Port);
            }
            var errorType = outcome.Error is { } error ? ErrorTypeOf(error.Category) : ErrorTypeOf(status);
            if (errorType is not null)
            {
                span.SetTag(ErrorType, errorType);
                span.SetStatus(ActivityStatusCode.Error, outcome.Error?.Message);
            }
        }
        var context = leaf.Context;
        if (outcome.IsSuccess && context.Activity is not null)
        {
            // A retried or replaced answer's span ends where the next one starts.
            context.AnswerSpan?.Stop();
            context.AnswerSpan = span;
            return;
        }
        span.Stop();
    }

    /// <summary>Starts a cache lookup's span under the request span; null when nobody listens.</summary>
    public static Activity? StartCacheLookup(RequestContext context) =>
        Source.HasListeners() ? Source.StartActivity(CacheLookupSpan, ActivityKind.Internal, context.Activity?.Context ?? default) : null;

    public static void EndCacheLookup(Activity span, CacheLookup lookup)
    {
        span.SetTag(SwitchyardMetrics.CacheStatusLabel, lookup.Status);
        span.Stop();
    }

    /// <summary>Starts the span of one event's guardrail hooks (<c>guardrails.before_request</c>, <c>guardrails.after_request</c>).</summary>
    public static Activity? StartGuardrails(HookEvent ev, ActivityContext parent, bool isAsync)
    {
        if (!Source.HasListeners())
        {
            return null;
        }
        var span = Source.StartActivity(ev == HookEvent.BeforeRequest ? "guardrails.before_request" : "guardrails.after_request",
            ActivityKind.Internal, parent);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(SwitchyardMetrics.GuardrailEventLabel, SwitchyardMetrics.EventName(ev));
            if (isAsync)
            {
                span.SetTag("switchyard.guardrail.async", true);
            }
        }
        return span;
    }

    /// <summary>Ends the request span and the answering attempt's span, at the moment the answer was delivered or abandoned.</summary>
    public void Complete(RequestContext context)
    {
        var attempt = context.AnswerSpan;
        var span = context.Activity;
        if (attempt is null && span is null)
        {
            return;
        }
        var end = context.StartedAt.UtcDateTime + context.Duration;
        if (attempt is not null)
        {
            context.AnswerSpan = null;
            if (attempt.IsAllDataRequested)
            {
                attempt.SetTag(ResponseModel, context.ResponseModel);
                SetUsage(attempt, context);
                if (context.TimeToFirstByte is { } firstByte && context.Request?.BodyFacts.Stream == true)
                {
                    attempt.SetTag(ResponseTimeToFirstChunk, Math.Max(0, (context.StartedAt + firstByte - attempt.StartTimeUtc).TotalSeconds));
                }
            }
            attempt.SetEndTime(end);
            attempt.Stop();
        }
        if (span is not null)
        {
            if (span.IsAllDataRequested)
            {
                var providerSlug = context.Provider ?? context.Error?.Provider;
                if (providerSlug is not null)
                {
                    var provider = Provider(providerSlug);
                    span.SetTag(ProviderName, provider);
                    if (!latestConventions)
                    {
                        span.SetTag(LegacySystem, provider);
                    }
                }
                span.SetTag(ResponseModel, context.ResponseModel);
                span.SetTag(HttpStatusCode, context.Status);
                span.SetTag(SwitchyardMetrics.CacheStatusLabel, context.CacheStatus);
                SetUsage(span, context);
                if (context.Cost is { } cost)
                {
                    span.SetTag(CostAttribute, (double)cost);
                }
                span.SetTag(SwitchyardMetrics.UsageSourceLabel, context.UsageSource);
                if (context.ClientAborted)
                {
                    span.SetTag(ClientAbortedAttribute, true);
                }
                var errorType = context.Error is { } error ? ErrorTypeOf(error.Category) : ErrorTypeOf(context.Status);
                if (errorType is not null)
                {
                    span.SetTag(ErrorType, errorType);
                }
                // A server span is in error for 5xx only: a 4xx is the client's mistake, not the gateway's.
                if (context.Status >= 500)
                {
                    span.SetStatus(ActivityStatusCode.Error, context.Error?.Message);
                }
            }
            span.SetEndTime(end);
            span.Stop();
        }
    }

    private void SetUsage(Activity span, RequestContext context)
    {
        if (context.Usage is not { } usage)
        {
            return;
        }
        span.SetTag(UsageInputTokens, usage.PromptTokens);
        span.SetTag(UsageOutputTokens, usage.CompletionTokens);
        if (usage.CachedPromptTokens > 0)
        {
            span.SetTag(UsageCacheReadTokens, usage.CachedPromptTokens);
        }
        if (usage.CacheWriteTokens > 0)
        {
            span.SetTag(latestConventions ? UsageCacheWriteTokens : UsageCacheCreationTokens, usage.CacheWriteTokens);
        }
        if (usage.ReasoningTokens > 0)
        {
            span.SetTag(UsageReasoningTokens, usage.ReasoningTokens);
        }
    }

    /// <summary>
    /// <c>{gen_ai.operation.name} {gen_ai.request.model}</c>, or the operation alone without a model or with one too long
    /// to be a model name (a client's text must not make span names, which backends index, arbitrarily long).
    /// </summary>
    private static string SpanName(string operation, string? model) =>
        model is null || model.Length > BoundedLabel.MaxValueLength ? operation : operation + " " + model;
}
