using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Guardrails;
using Switchyard.Core.Guardrails.Checks;
using Switchyard.Core.Guardrails.Pii;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Pipeline.Steps;

/// <summary>
/// Runs the leaf's after-request hooks on each attempt's answer (results reset per attempt) and shapes the answer as
/// Portkey does: a denial is 446 (retried when 446 is in <c>retry.on_status_codes</c>, and a fallback moves on from it),
/// a failed hook without denial turns a 200 into 246, and a JSON answer carries <c>hook_results</c> whenever hooks ran.
/// Streams get the before-request results as a first event (strict mode off), 246 when a before-request hook failed,
/// PII redaction of their text deltas, and the other after-request checks on the whole text at the end (logged only).
/// </summary>
public sealed class OutputGuardrailStep(HookRunner runner) : ILeafStep
{
    public async ValueTask RunAsync(LeafExchange leaf, CancellationToken ct)
    {
        if (leaf.Guardrails is not LeafGuardrails state || leaf.Outcome is not { } outcome)
        {
            return;
        }
        var context = leaf.Context;
        // A previous attempt's failed hooks switched storing off; this attempt starts with the leaf's own decision.
        state.Cache ??= leaf.Cache;
        leaf.Cache = state.Cache;
        outcome.CacheStatus = state.Cache.Status;
        state.AfterResult = HookEventResult.Empty;
        var hooks = state.Hooks;
        if (outcome.Response is not { } response || response.StatusCode != HttpStatusCode.OK)
        {
            // After-request hooks only look at a 200: they are reported as skipped.
            hooks.SetResponse(null, outcome.Status);
            state.AfterResult = await runner.RunAsync(state.After, HookEvent.AfterRequest, hooks, HookSelection.Sync, ct).ConfigureAwait(false);
            context.SetHookResults(null, state.AfterResult.ToJsonArray());
            return;
        }
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType == "text/event-stream")
        {
            Stream(leaf, state, response);
            return;
        }
        if (mediaType is null || !(mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal)))
        {
            return;
        }
        var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        JsonObject? json;
        try
        {
            json = JsonNode.Parse(bytes) as JsonObject;
        }
        catch (JsonException)
        {
            json = null;
        }
        if (json is null)
        {
            HookResponses.ReplaceBody(response, bytes);
            return;
        }
        hooks.SetResponse(json, 200);
        var after = await runner.RunAsync(state.After, HookEvent.AfterRequest, hooks, HookSelection.Sync, ct).ConfigureAwait(false);
        state.AfterResult = after;
        context.SetHookResults(null, after.ToJsonArray());
        if (after.ShouldDeny)
        {
            context.AddAttempt(new AttemptRecord(leaf.Leaf.OptionPath, leaf.Target.Provider.Slug, HookResponses.DeniedStatus, leaf.Attempt,
                "guardrail_denied", 0));
            var denied = HookResponses.Denied(state.BeforeResult, after);
            // Keep the upstream's own headers (request ids, rate limits) with the denial.
            foreach (var (name, values) in response.Headers.NonValidated)
            {
                denied.Headers.TryAddWithoutValidation(name, values);
            }
            response.Dispose();
            outcome.Response = denied;
            return;
        }
        if (state.BeforeResult.Results.Count == 0 && after.Results.Count == 0)
        {
            HookResponses.ReplaceBody(response, bytes);
            return;
        }
        var body = (JsonObject)hooks.ResponseJson!.DeepClone();
        body["hook_results"] = HookResponses.Results(state.BeforeResult, after);
        HookResponses.ReplaceBody(response, HookResponses.Serialize(body));
        if (state.BeforeResult.AnyFailed || after.AnyFailed)
        {
            response.StatusCode = (HttpStatusCode)HookResponses.FailedStatus;
            response.ReasonPhrase = "Hooks failed";
            // An answer that failed its checks is never replayed from the cache.
            leaf.Cache = Caching.CacheLookup.Disabled;
        }
        else if (leaf.Cache.IsEnabled)
        {
            // Stored as the provider sent it, without this request's hook_results (as in Portkey, a hit is served
            // without after-request hooks); the cache store step then has nothing left to store.
            using var raw = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(bytes) };
            raw.Content.Headers.ContentType = response.Content.Headers.ContentType;
            using var storing = leaf.Cache.StoreOnCompletion(raw);
            await storing.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            leaf.Cache = Caching.CacheLookup.Disabled;
        }
    }

    private void Stream(LeafExchange leaf, LeafGuardrails state, HttpResponseMessage response)
    {
        var context = leaf.Context;
        var request = leaf.Request;
        context.SetHookResults(null, []);
        if (state.BeforeResult.AnyFailed)
        {
            response.StatusCode = (HttpStatusCode)HookResponses.FailedStatus;
            response.ReasonPhrase = "Hooks failed";
            leaf.Cache = Caching.CacheLookup.Disabled;
        }
        byte[]? prefix = null;
        if (!ChatCall.IsStrict(request, leaf.Target.Settings) && state.BeforeResult.Results.Count > 0)
        {
            var data = HookResponses.SerializeToString(new JsonObject
            {
                ["hook_results"] = new JsonObject { ["before_request_hooks"] = state.BeforeResult.ToJsonArray() },
            });
            prefix = System.Text.Encoding.UTF8.GetBytes(
                (request.Endpoint == Requests.EndpointKind.Messages ? "event: hook_results\n" : "") + "data: " + data + "\n\n");
        }
        var sync = state.After.Where(h => !h.Async).ToList();
        var detectors = sync.SelectMany(h => h.Checks)
            .Where(c => c.IsEnabled)
            .Select(c => (c.Check as PiiCheck)?.StreamRedactor)
            .OfType<PiiDetector>()
            .ToList();
        if (prefix is null && sync.Count == 0)
        {
            return;
        }
        Action<string>? atEnd = null;
        if (sync.Count > 0)
        {
            atEnd = text =>
            {
                var hooks = state.Hooks;
                hooks.SetResponse(StreamedAnswer(request.Endpoint, text), 200);
                context.AddPendingLogWork(Task.Run(async () =>
                {
                    var result = await runner.RunAsync(sync, HookEvent.AfterRequest, hooks, HookSelection.Sync, CancellationToken.None).ConfigureAwait(false);
                    context.AppendHookResults(HookEvent.AfterRequest, result.Results);
                }));
            };
        }
        response.Content = new GuardedStreamContent(response.Content, request.Endpoint, prefix, detectors, atEnd);
    }

    /// <summary>The streamed text as a one-choice answer in the client's protocol, for checks that read a whole answer.</summary>
    private static JsonObject StreamedAnswer(Requests.EndpointKind endpoint, string text) => endpoint switch
    {
        Requests.EndpointKind.Messages => new JsonObject
        {
            ["type"] = "message",
            ["role"] = "assistant",
            ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }),
        },
        Requests.EndpointKind.CreateModelResponse => new JsonObject
        {
            ["object"] = "response",
            ["output"] = new JsonArray(new JsonObject
            {
                ["type"] = "message",
                ["role"] = "assistant",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = text }),
            }),
        },
        Requests.EndpointKind.Complete => new JsonObject { ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["text"] = text }) },
        _ => new JsonObject
        {
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
            }),
        },
    };
}
