namespace Switchyard.Core.Routing.Conditions;

/// <summary>A compiled piece of a query: a key test, or an all-of / any-of group.</summary>
internal abstract class ConditionNode
{
    /// <summary>Whether evaluating this node may parse the request body (it touches a <c>params.*</c> key).</summary>
    public abstract bool ReadsBody { get; }

    public abstract bool Matches(ConditionContext context);
}
