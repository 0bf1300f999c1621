namespace Switchyard.Core.Routing.Conditions;

/// <summary>A compiled piece of a query: a key test, or an all-of / any-of group.</summary>
internal abstract class ConditionNode
{
    /// <summary>The most expensive thing evaluating this node may do (parse the body, tokenize the prompt).</summary>
    public abstract EvaluationCost Cost { get; }

    public abstract bool Matches(ConditionContext context);
}
