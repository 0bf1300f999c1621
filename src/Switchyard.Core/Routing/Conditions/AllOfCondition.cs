namespace Switchyard.Core.Routing.Conditions;

/// <summary>The keys of one query object and <c>$and</c>: every child must match.</summary>
internal sealed class AllOfCondition : ConditionNode
{
    private readonly ConditionNode[] _children;

    public AllOfCondition(ConditionNode[] children)
    {
        _children = BodyLast(children);
        foreach (var child in _children) ReadsBody |= child.ReadsBody;
    }

    public override bool ReadsBody { get; }

    public override bool Matches(ConditionContext context)
    {
        foreach (var child in _children)
        {
            if (!child.Matches(context)) return false;
        }
        return true;
    }

    /// <summary>Orders children so those that need the parsed body run last: evaluation is side-effect free, so
    /// the order cannot change the result, but a cheap metadata/path test may settle it before the body is parsed.</summary>
    internal static ConditionNode[] BodyLast(ConditionNode[] children)
    {
        var ordered = new ConditionNode[children.Length];
        var next = 0;
        foreach (var child in children)
        {
            if (!child.ReadsBody) ordered[next++] = child;
        }
        foreach (var child in children)
        {
            if (child.ReadsBody) ordered[next++] = child;
        }
        return ordered;
    }
}
