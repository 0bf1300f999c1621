namespace Switchyard.Core.Routing.Conditions;

/// <summary><c>$in</c> or, negated, <c>$nin</c>: membership in a literal array by strict equality.</summary>
internal sealed class MembershipPredicate(ConditionLiteral[] candidates, bool negated) : FieldPredicate
{
    public override bool Matches(in FieldValue value)
    {
        foreach (var candidate in candidates)
        {
            if (StrictEquality.Matches(value, candidate)) return !negated;
        }
        // A missing key is in no list, so $nin holds for it.
        return negated;
    }
}
