namespace Switchyard.Core.Routing.Conditions;

/// <summary>The keys of one query object and <c>$and</c>: every child must match.</summary>
internal sealed class AllOfCondition : ConditionNode
{
    private readonly ConditionNode[] _children;

    public AllOfCondition(ConditionNode[] children)
    {
        _children = CheapestFirst(children);
        foreach (var child in _children) Cost = child.Cost > Cost ? child.Cost : Cost;
    }

    public override EvaluationCost Cost { get; }

    public override bool Matches(ConditionContext context)
    {
        foreach (var child in _children)
        {
            if (!child.Matches(context)) return false;
        }
        return true;
    }

    /// <summary>Orders children by what they cost to evaluate, keeping their order otherwise: evaluation is side-effect free, so
    /// the order cannot change the result, but a cheap metadata/path test may settle it before the body is parsed, and a
    /// <c>params.*</c> test before the prompt is tokenized.</summary>
    internal static ConditionNode[] CheapestFirst(ConditionNode[] children)
    {
        var ordered = new ConditionNode[children.Length];
        var next = 0;
        foreach (var cost in Enum.GetValues<EvaluationCost>())
        {
            foreach (var child in children)
            {
                if (child.Cost == cost) ordered[next++] = child;
            }
        }
        return ordered;
    }
}
