using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails;

/// <summary>The outcome of running one event's hooks: Portkey's per-hook result objects and what they mean for the request.</summary>
public sealed class HookEventResult
{
    public static readonly HookEventResult Empty = new([], false, false, false, false);

    public HookEventResult(IReadOnlyList<JsonObject> results, bool shouldDeny, bool anyFailed, bool requestTransformed, bool responseTransformed)
    {
        Results = results;
        ShouldDeny = shouldDeny;
        AnyFailed = anyFailed;
        RequestTransformed = requestTransformed;
        ResponseTransformed = responseTransformed;
    }

    /// <summary>One object per hook, in hook order, with Portkey's field names (<c>id, type, verdict, deny, async, transformed, …, checks</c>).</summary>
    public IReadOnlyList<JsonObject> Results { get; }

    /// <summary>A hook with <c>deny: true</c> failed: the request is refused with 446.</summary>
    public bool ShouldDeny { get; }

    /// <summary>Some hook that ran (not skipped) failed; without a denial a 200 becomes 246.</summary>
    public bool AnyFailed { get; }

    /// <summary>A check replaced the request body during this run (the caller re-translates it for the provider).</summary>
    public bool RequestTransformed { get; }

    /// <summary>A check replaced the response body during this run.</summary>
    public bool ResponseTransformed { get; }

    /// <summary>True when no hook ran at all (every one skipped, or none configured).</summary>
    public bool NoneRan => Results.All(r => r["skipped"] is JsonValue v && v.TryGetValue<bool>(out var s) && s);

    /// <summary>The results as a JSON array (deep copies, safe to attach to a response body).</summary>
    public JsonArray ToJsonArray() => new([.. Results.Select(r => (JsonNode?)r.DeepClone())]);
}
