namespace Switchyard.Core.Pipeline;

/// <summary>
/// One small step of trying a leaf target. The leaf runs its steps in order: input guardrails → cache lookup → plan
/// and translate → send → output guardrails → cache store. A step before the send that sets
/// <see cref="LeafExchange.Outcome"/> answers for the leaf; the send and output-guardrail steps run again on a retry.
/// </summary>
public interface ILeafStep
{
    ValueTask RunAsync(LeafExchange leaf, CancellationToken ct);
}
