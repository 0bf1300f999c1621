namespace Switchyard.Core.Routing.Conditions;

/// <summary><c>$or</c>: at least one child must match.</summary>
internal sealed class AnyOfCondition : ConditionNode
{
    private readonly ConditionNode[] _children;

    public AnyOfCondition(ConditionNode[] children)
    {
        _children = AllOfCondition.CheapestFirst(children);
        foreach (var child in _children) Cost = child.Cost > Cost ? child.Cost : Cost;
    }

    public override EvaluationCost Cost { get; }

    public override bool Matches(ConditionContext context)
    {
        foreach (var child in _children)
        {
            if (child.Matches(context)) return true;
        }
        return false;
    }
}
