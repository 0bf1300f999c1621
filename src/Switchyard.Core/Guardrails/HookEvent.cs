namespace Switchyard.Core.Guardrails;

/// <summary>When a hook runs: Portkey's <c>beforeRequestHook</c> (on the request) or <c>afterRequestHook</c> (on the response).</summary>
public enum HookEvent
{
    BeforeRequest,
    AfterRequest,
}
