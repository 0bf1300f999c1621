using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Guardrails;
using Switchyard.Core.Requests;
using Switchyard.Core.Routing;

namespace Switchyard.Core.Pipeline.Steps;

/// <summary>
/// Runs the leaf's before-request hooks (the config's, then the default-input-guardrail header's) on the request as the
/// leaf will send it (client protocol, after <c>override_params</c>). A denial answers the leaf with 446 (a response,
/// so a fallback moves on from it); a transform replaces the body that the cache key and the translation use.
/// Async hooks are scheduled to run once the answer has been delivered.
/// </summary>
public sealed class InputGuardrailStep(HookRunner runner, ILogger logger) : ILeafStep
{
    private static readonly HashSet<EndpointKind> Hooked =
        [EndpointKind.ChatComplete, EndpointKind.Complete, EndpointKind.Embed, EndpointKind.Messages, EndpointKind.CreateModelResponse];

    public async ValueTask RunAsync(LeafExchange leaf, CancellationToken ct)
    {
        var context = leaf.Context;
        var settings = leaf.Target.Settings;
        var before = Concat(settings.BeforeRequestHooks, context.DefaultBeforeHooks);
        var after = Concat(settings.AfterRequestHooks, context.DefaultAfterHooks);
        var request = leaf.Request;
        if ((before.Count == 0 && after.Count == 0) || !Hooked.Contains(request.Endpoint) || !request.IsJson || !request.BodyFacts.IsObject)
        {
            return;
        }
        if (JsonNode.Parse(leaf.Body.Span) is not JsonObject json)
        {
            return;
        }
        var started = context.Elapsed;
        var hooks = new HookContext(json, request.Endpoint.FnName(), request.Headers)
        {
            IsStreamingRequest = request.BodyFacts.Stream,
            Provider = leaf.Target.Provider.Slug,
            Metadata = Metadata(request.Headers) ?? [],
            TraceParent = context.Activity?.Context ?? default,
        };
        var state = new LeafGuardrails { Hooks = hooks, Before = before, After = after };
        leaf.Guardrails = state;
        context.GuardrailState = state;
        state.BeforeResult = await runner.RunAsync(before, HookEvent.BeforeRequest, hooks, HookSelection.Sync, ct).ConfigureAwait(false);
        // A new leaf starts its own results: the log shows those of the leaf that answered.
        context.SetHookResults(state.BeforeResult.ToJsonArray(), []);
        ScheduleAsyncHooks(context, state);
        if (state.BeforeResult.ShouldDeny)
        {
            context.AddAttempt(new AttemptRecord(leaf.Leaf.OptionPath, leaf.Target.Provider.Slug, HookResponses.DeniedStatus, 0, "guardrail_denied",
                (context.Elapsed - started).TotalMilliseconds));
            leaf.Finish(RouteOutcome.FromResponse(HookResponses.Denied(state.BeforeResult, HookEventResult.Empty), null));
            return;
        }
        if (state.BeforeResult.RequestTransformed)
        {
            leaf.Body = HookResponses.Serialize(hooks.RequestJson);
        }
    }

    private static IReadOnlyList<HookDefinition> Concat(IReadOnlyList<HookDefinition>? own, IReadOnlyList<HookDefinition> defaults) =>
        own is null || own.Count == 0 ? defaults : defaults.Count == 0 ? own : [.. own, .. defaults];

    private static JsonObject? Metadata(IRequestHeaders headers)
    {
        if (headers.Get("x-portkey-metadata") is not { Length: > 0 } raw)
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(raw) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Async hooks of the leaf that answered run after delivery; their results join the log record, which waits for them (bounded).</summary>
    private void ScheduleAsyncHooks(RequestContext context, LeafGuardrails state)
    {
        if (!state.Before.Any(h => h.Async) && !state.After.Any(h => h.Async))
        {
            return;
        }
        if (context.AsyncHooksScheduled)
        {
            return;
        }
        context.AsyncHooksScheduled = true;
        context.OnCompleted(c =>
        {
            if (c.GuardrailState is not LeafGuardrails answered)
            {
                return;
            }
            c.AddPendingLogWork(Task.Run(async () =>
            {
                try
                {
                    var b = await runner.RunAsync(answered.Before, HookEvent.BeforeRequest, answered.Hooks, HookSelection.Async, CancellationToken.None).ConfigureAwait(false);
                    c.AppendHookResults(HookEvent.BeforeRequest, b.Results);
                    var a = await runner.RunAsync(answered.After, HookEvent.AfterRequest, answered.Hooks, HookSelection.Async, CancellationToken.None).ConfigureAwait(false);
                    c.AppendHookResults(HookEvent.AfterRequest, a.Results);
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Async hooks of {TraceId} failed", c.TraceId);
                }
            }));
        });
    }
}
