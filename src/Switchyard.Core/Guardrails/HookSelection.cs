namespace Switchyard.Core.Guardrails;

/// <summary>Which hooks of an event to run: the inline ones (<c>async</c> absent or false) or the background ones.</summary>
public enum HookSelection
{
    Sync,
    Async,
}
