using Switchyard.Core.Caching;
using Switchyard.Core.Guardrails;

namespace Switchyard.Core.Pipeline;

/// <summary>The guardrail state of one leaf: its hooks, the hook context (request and, per attempt, response) and the results so far.</summary>
internal sealed class LeafGuardrails
{
    public required HookContext Hooks { get; init; }

    /// <summary>The leaf's before-request hooks followed by the default-input-guardrail header's.</summary>
    public required IReadOnlyList<HookDefinition> Before { get; init; }

    /// <summary>The leaf's after-request hooks followed by the default-output-guardrail header's.</summary>
    public required IReadOnlyList<HookDefinition> After { get; init; }

    public HookEventResult BeforeResult { get; set; } = HookEventResult.Empty;

    public HookEventResult AfterResult { get; set; } = HookEventResult.Empty;

    /// <summary>The leaf's cache decision before an attempt's failed hooks switched storing off.</summary>
    public CacheLookup? Cache { get; set; }
}
