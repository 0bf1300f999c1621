namespace Switchyard.Core.Routing.Conditions;

/// <summary><c>$exists</c>: whether the key resolves at all; a JSON <c>null</c> counts as present.</summary>
internal sealed class ExistencePredicate(bool expected) : FieldPredicate
{
    public override bool Matches(in FieldValue value) => (value.Kind != FieldValueKind.Undefined) == expected;
}
