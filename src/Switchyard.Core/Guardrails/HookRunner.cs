using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Switchyard.Core.Guardrails;

/// <summary>Runs the hooks of one event against a request's context with Portkey's semantics (§7.2).</summary>
/// <remarks>
/// All hooks of the event run concurrently; a guardrail's checks run concurrently unless it is <c>sequential</c>;
/// a mutator's checks always run in order. A check's transform replaces the context's body, so later sequential checks
/// see it, while concurrent checks all see the body as it was when they started (their transforms are applied in
/// check order once all have finished). One deviation: checks (and hooks) that can rewrite the body never run
/// concurrently with each other, so two rewrites (a redaction and a prefix, say) compose instead of the last one
/// silently replacing the first.
/// </remarks>
public sealed class HookRunner
{
    private static readonly HashSet<string> HookedRequestTypes = ["chatComplete", "complete", "embed", "messages", "createModelResponse"];

    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public HookRunner(TimeProvider? time = null, ILogger? logger = null)
    {
        // The system clock only for runners built outside the engine; the engine's takes GuardrailServices.Time.
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    public HookRunner(GuardrailServices services) : this(services.Time, services.Logger)
    {
    }

    /// <summary>Where hook and check verdicts are counted; null counts nothing.</summary>
    public Telemetry.SwitchyardMetrics? Metrics { get; init; }

    public async Task<HookEventResult> RunAsync(IReadOnlyList<HookDefinition> hooks, HookEvent ev, HookContext ctx, HookSelection which, CancellationToken ct)
    {
        var selected = hooks.Where(h => h.Async == (which == HookSelection.Async)).ToList();
        if (selected.Count == 0) return HookEventResult.Empty;
        using var span = Telemetry.SwitchyardTracing.StartGuardrails(ev, ctx.TraceParent, which == HookSelection.Async);
        var result = await RunSelectedAsync(selected, ev, ctx, ct).ConfigureAwait(false);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(Telemetry.SwitchyardMetrics.GuardrailVerdictLabel, result.ShouldDeny ? "denied" : result.AnyFailed ? "failed" : "passed");
            span.SetTag("switchyard.guardrail.hook_ids", selected.Select(h => h.Id).ToArray());
        }
        return result;
    }

    private async Task<HookEventResult> RunSelectedAsync(List<HookDefinition> selected, HookEvent ev, HookContext ctx, CancellationToken ct)
    {
        var requestVersion = ctx.RequestJson;
        var responseVersion = ctx.ResponseJson;
        var results = new (JsonObject Result, bool Ran, bool Verdict)[selected.Count];
        // Hooks that can rewrite the body run one after another (in hook order) so no rewrite is lost to a race;
        // all other hooks run concurrently with them, as in Portkey.
        var rewriting = selected.Select((h, i) => (h, i)).Where(x => MayTransform(x.h) && !ShouldSkip(x.h, ev, ctx)).Select(x => x.i).ToList();
        var chained = rewriting.Count > 1 ? new HashSet<int>(rewriting) : [];
        var tasks = new List<Task>();
        for (var i = 0; i < selected.Count; i++)
        {
            if (chained.Contains(i)) continue;
            var index = i;
            tasks.Add(Task.Run(async () => results[index] = await RunHookAsync(selected[index], ev, ctx, ct).ConfigureAwait(false), ct));
        }
        if (chained.Count > 0)
        {
            tasks.Add(Task.Run(async () =>
            {
                foreach (var index in rewriting) results[index] = await RunHookAsync(selected[index], ev, ctx, ct).ConfigureAwait(false);
            }, ct));
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
        var shouldDeny = false;
        var anyFailed = false;
        for (var i = 0; i < results.Length; i++)
        {
            var (result, ran, verdict) = results[i];
            if (!ran) continue;
            if (!verdict)
            {
                anyFailed = true;
                if (selected[i].Deny) shouldDeny = true;
            }
        }
        return new HookEventResult([.. results.Select(r => r.Result)], shouldDeny, anyFailed,
            !ReferenceEquals(requestVersion, ctx.RequestJson), !ReferenceEquals(responseVersion, ctx.ResponseJson));
    }

    private async Task<(JsonObject Result, bool Ran, bool Verdict)> RunHookAsync(HookDefinition hook, HookEvent ev, HookContext ctx, CancellationToken ct)
    {
        if (ShouldSkip(hook, ev, ctx))
        {
            return (new JsonObject { ["id"] = hook.Id, ["type"] = hook.TypeName, ["skipped"] = true }, false, true);
        }
        var createdAt = _time.GetUtcNow();
        var started = _time.GetTimestamp();
        var enabled = hook.Checks.Where(c => c.IsEnabled).ToList();
        var checkResults = new List<CheckRun>(enabled.Count);
        if (hook.Kind == HookKind.Mutator || hook.Sequential)
        {
            foreach (var check in enabled)
            {
                var run = await RunCheckAsync(check, ev, ctx, ct).ConfigureAwait(false);
                Apply(run.Outcome, ev, ctx);
                checkResults.Add(run);
            }
        }
        else
        {
            // Checks run concurrently, except that checks able to rewrite the body run one after another (in check
            // order, each seeing the previous rewrite): Portkey lets them race and keeps only the last rewrite, which
            // could silently undo a redaction.
            var runs = new CheckRun[enabled.Count];
            var rewriters = Enumerable.Range(0, enabled.Count).Where(i => enabled[i].Check.MayTransform).ToList();
            var chained = rewriters.Count > 1 ? new HashSet<int>(rewriters) : [];
            var tasks = new List<Task>();
            for (var i = 0; i < enabled.Count; i++)
            {
                if (chained.Contains(i)) continue;
                var index = i;
                tasks.Add(Task.Run(async () => runs[index] = await RunCheckAsync(enabled[index], ev, ctx, ct).ConfigureAwait(false), ct));
            }
            if (chained.Count > 0)
            {
                tasks.Add(Task.Run(async () =>
                {
                    foreach (var index in rewriters)
                    {
                        runs[index] = await RunCheckAsync(enabled[index], ev, ctx, ct).ConfigureAwait(false);
                        Apply(runs[index].Outcome, ev, ctx);
                    }
                }, ct));
            }
            await Task.WhenAll(tasks).ConfigureAwait(false);
            for (var i = 0; i < runs.Length; i++)
            {
                if (!chained.Contains(i)) Apply(runs[i].Outcome, ev, ctx);
                checkResults.Add(runs[i]);
            }
        }

        var verdict = checkResults.All(r => r.Outcome.Verdict || (r.Outcome.Error is not null && !r.Definition.FailOnError));
        if (Metrics is { } metrics)
        {
            metrics.RecordHook(ev, hook.Id, verdict, hook.Deny && !verdict);
            foreach (var run in checkResults) metrics.RecordCheck(ev, run.Definition.Id, run.Outcome.Verdict, run.Outcome.Error is not null);
        }
        var checks = new JsonArray();
        foreach (var run in checkResults) checks.Add((JsonNode)run.ToJson());
        var result = new JsonObject
        {
            ["id"] = hook.Id,
            ["type"] = hook.TypeName,
            ["verdict"] = verdict,
            ["deny"] = hook.Deny && !verdict,
            ["async"] = hook.Async,
            ["transformed"] = checkResults.Any(r => r.Outcome.Transformed),
            ["execution_time"] = Milliseconds(started),
            ["created_at"] = Iso(createdAt),
            ["feedback"] = Feedback(hook, checkResults, verdict),
            ["checks"] = checks,
        };
        return (result, true, verdict);
    }

    private static bool MayTransform(HookDefinition hook) => hook.Checks.Any(c => c.IsEnabled && c.Check.MayTransform);

    private static bool ShouldSkip(HookDefinition hook, HookEvent ev, HookContext ctx) =>
        !HookedRequestTypes.Contains(ctx.RequestType)
        || (ctx.RequestType == "embed" && (ev != HookEvent.BeforeRequest || hook.Kind == HookKind.Mutator))
        || (ev == HookEvent.AfterRequest && ctx.StatusCode != 200)
        || (hook.Kind == HookKind.Mutator && hook.Async);

    private async Task<CheckRun> RunCheckAsync(CheckDefinition check, HookEvent ev, HookContext ctx, CancellationToken ct)
    {
        var createdAt = _time.GetUtcNow();
        var started = _time.GetTimestamp();
        CheckOutcome outcome;
        try
        {
            outcome = await check.Check.RunAsync(ctx, ev, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Guardrail check {CheckId} threw", check.Id);
            outcome = new CheckOutcome(false, null, new CheckError("Check error", "Error executing check: " + ex.Message));
        }
        return new CheckRun(check, outcome, createdAt, Milliseconds(started));
    }

    private static void Apply(CheckOutcome outcome, HookEvent ev, HookContext ctx)
    {
        // A check may only rewrite the side its event works on, as Portkey's plugins do.
        if (ev == HookEvent.BeforeRequest && outcome.TransformedRequest is { } request) ctx.ReplaceRequestJson(request);
        if (ev == HookEvent.AfterRequest && outcome.TransformedResponse is { } response) ctx.ReplaceResponseJson(response);
    }

    /// <summary>The hook's <c>feedback</c>: <c>on_success</c> or <c>on_fail</c> feedback with the check ids added to its metadata.</summary>
    private static JsonObject? Feedback(HookDefinition hook, List<CheckRun> runs, bool verdict)
    {
        var config = (verdict ? hook.OnSuccess : hook.OnFail)?["feedback"] as JsonObject;
        if (config is null) return null;
        var metadata = config["metadata"] is JsonObject m ? (JsonObject)m.DeepClone() : new JsonObject();
        metadata["successfulChecks"] = string.Join(", ", runs.Where(r => r.Outcome.Verdict).Select(r => r.Definition.Id));
        metadata["failedChecks"] = string.Join(", ", runs.Where(r => !r.Outcome.Verdict && r.Outcome.Error is null).Select(r => r.Definition.Id));
        metadata["erroredChecks"] = string.Join(", ", runs.Where(r => !r.Outcome.Verdict && r.Outcome.Error is not null).Select(r => r.Definition.Id));
        return new JsonObject
        {
            ["value"] = config["value"]?.DeepClone(),
            ["weight"] = config["weight"]?.DeepClone(),
            ["metadata"] = metadata,
        };
    }

    private long Milliseconds(long started) => (long)_time.GetElapsedTime(started).TotalMilliseconds;

    /// <summary>JavaScript's Date.toJSON(): UTC with milliseconds.</summary>
    internal static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private sealed record CheckRun(CheckDefinition Definition, CheckOutcome Outcome, DateTimeOffset CreatedAt, long ExecutionTime)
    {
        public JsonObject ToJson()
        {
            var json = new JsonObject
            {
                ["id"] = Definition.Id,
                ["verdict"] = Outcome.Verdict,
                ["data"] = Outcome.Data?.DeepClone(),
            };
            if (Outcome.Error is { } error) json["error"] = new JsonObject { ["name"] = error.Name, ["message"] = error.Message };
            json["execution_time"] = ExecutionTime;
            json["created_at"] = Iso(CreatedAt);
            json["transformed"] = Outcome.Transformed;
            json["log"] = Outcome.Log?.DeepClone();
            json["fail_on_error"] = Definition.FailOnError;
            return json;
        }
    }
}
