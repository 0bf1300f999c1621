namespace Switchyard.Core.Guardrails;

/// <summary>A hook's type: a guardrail judges (checks may run in parallel), a mutator rewrites (checks always run in order).</summary>
public enum HookKind
{
    Guardrail,
    Mutator,
}
