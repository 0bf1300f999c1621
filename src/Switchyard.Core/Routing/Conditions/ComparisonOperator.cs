namespace Switchyard.Core.Routing.Conditions;

/// <summary>The ordering operators <c>$gt</c>, <c>$gte</c>, <c>$lt</c>, <c>$lte</c>.</summary>
internal enum ComparisonOperator
{
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
}
