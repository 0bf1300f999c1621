namespace Switchyard.Core.Routing.Conditions;

/// <summary><c>$gt</c>/<c>$gte</c>/<c>$lt</c>/<c>$lte</c> against a bound fixed when the config loads.</summary>
internal sealed class ComparisonPredicate(ComparisonOperator comparison, double bound) : FieldPredicate
{
    public override bool Matches(in FieldValue value)
    {
        if (!NumericCoercion.TryGetNumber(value, out var number)) return false;
        return comparison switch
        {
            ComparisonOperator.GreaterThan => number > bound,
            ComparisonOperator.GreaterThanOrEqual => number >= bound,
            ComparisonOperator.LessThan => number < bound,
            _ => number <= bound,
        };
    }
}
