namespace Switchyard.Core.Routing.Conditions;

/// <summary><c>$eq</c> (and the literal shorthand) or, negated, <c>$ne</c>.</summary>
internal sealed class EqualityPredicate(ConditionLiteral expected, bool negated) : FieldPredicate
{
    // $ne on a missing key holds, as in Portkey (undefined !== x).
    public override bool Matches(in FieldValue value) => StrictEquality.Matches(value, expected) != negated;
}
