namespace Switchyard.Core.Routing.Conditions;

/// <summary><c>$or</c>: at least one child must match.</summary>
internal sealed class AnyOfCondition : ConditionNode
{
    private readonly ConditionNode[] _children;

    public AnyOfCondition(ConditionNode[] children)
    {
        _children = AllOfCondition.BodyLast(children);
        foreach (var child in _children) ReadsBody |= child.ReadsBody;
    }

    public override bool ReadsBody { get; }

    public override bool Matches(ConditionContext context)
    {
        foreach (var child in _children)
        {
            if (child.Matches(context)) return true;
        }
        return false;
    }
}
