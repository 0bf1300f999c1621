using System.Text.Json.Nodes;
using Switchyard.Core.Guardrails;

namespace Switchyard.Core.Configs;

/// <summary>The settings in force at one config node after inheritance from its ancestors (Portkey §4.5).</summary>
public sealed record TargetSettings
{
    public static readonly TargetSettings Empty = new();

    /// <summary>Shallow-merged parent → child; never mutated after compilation.</summary>
    public JsonObject? OverrideParams { get; init; }

    public RetrySettings? Retry { get; init; }

    public CacheSettings? Cache { get; init; }

    public int? RequestTimeoutMs { get; init; }

    /// <summary>Validated base URL override, without trailing slash.</summary>
    public string? CustomHost { get; init; }

    public IReadOnlyList<string>? ForwardHeaders { get; init; }

    public bool? StrictOpenAiCompliance { get; init; }

    /// <summary>Hooks run before the request (full form, then shorthand guardrails, then mutators); the node's own replace inherited ones.</summary>
    public IReadOnlyList<HookDefinition>? BeforeRequestHooks { get; init; }

    /// <summary>Hooks run on the answer; the node's own replace inherited ones.</summary>
    public IReadOnlyList<HookDefinition>? AfterRequestHooks { get; init; }
}
