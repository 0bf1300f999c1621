namespace Switchyard.Core.Routing.Conditions;

/// <summary>One test applied to a resolved key value, e.g. <c>$gt: 5</c> or a literal.</summary>
internal abstract class FieldPredicate
{
    public abstract bool Matches(in FieldValue value);
}
