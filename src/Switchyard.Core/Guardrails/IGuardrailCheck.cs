namespace Switchyard.Core.Guardrails;

/// <summary>One compiled check (a Portkey plugin function): reads the hook context, never mutates it in place.</summary>
/// <remarks>
/// Checks of one hook may run concurrently against the same context, so an implementation must treat
/// <see cref="HookContext.RequestJson"/> and <see cref="HookContext.ResponseJson"/> as read-only and return rewritten
/// bodies through <see cref="CheckOutcome.TransformedRequest"/> / <see cref="CheckOutcome.TransformedResponse"/>.
/// </remarks>
public interface IGuardrailCheck
{
    ValueTask<CheckOutcome> RunAsync(HookContext context, HookEvent ev, CancellationToken ct);

    /// <summary>Whether the check can rewrite the body; the runner never lets two such checks race on the same body.</summary>
    bool MayTransform => false;
}
