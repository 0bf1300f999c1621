using System.Text.Json;

namespace Switchyard.Core.Routing.Conditions;

/// <summary><c>$length</c> (from newer Portkey): applies predicates to the element count of an array value; anything else fails.</summary>
internal sealed class LengthPredicate(FieldPredicate[] predicates) : FieldPredicate
{
    public override bool Matches(in FieldValue value)
    {
        if (value.Kind != FieldValueKind.Json || value.Json.ValueKind != JsonValueKind.Array) return false;
        var length = FieldValue.FromNumber(value.Json.GetArrayLength());
        foreach (var predicate in predicates)
        {
            if (!predicate.Matches(length)) return false;
        }
        return true;
    }
}
