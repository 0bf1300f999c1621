namespace Switchyard.Core.Routing.Conditions;

/// <summary>One query key: resolve its path once, then every predicate on it must hold.</summary>
internal sealed class FieldCondition(FieldPath path, FieldPredicate[] predicates) : ConditionNode
{
    public override EvaluationCost Cost => path.Cost;

    public override bool Matches(ConditionContext context)
    {
        var value = path.Resolve(context);
        foreach (var predicate in predicates)
        {
            if (!predicate.Matches(value)) return false;
        }
        return true;
    }
}
