using System.Text.Json;

namespace Switchyard.Core.Routing.Conditions;

/// <summary>The equality behind literals, <c>$eq</c>, <c>$ne</c>, <c>$in</c> and <c>$nin</c>: same JSON type and value, numbers by value, containers structurally.</summary>
internal static class StrictEquality
{
    public static bool Matches(in FieldValue value, ConditionLiteral literal) => value.Kind switch
    {
        FieldValueKind.Text => literal.Kind == JsonValueKind.String && string.Equals(value.Text, literal.Text, StringComparison.Ordinal),
        FieldValueKind.Number => literal.Kind == JsonValueKind.Number && value.Number == literal.Number,
        FieldValueKind.Json => value.Json.ValueKind switch
        {
            // Fast paths that avoid materialising strings or walking the literal.
            JsonValueKind.String => literal.Kind == JsonValueKind.String && value.Json.ValueEquals(literal.Text),
            JsonValueKind.Number => literal.Kind == JsonValueKind.Number && value.Json.GetDouble() == literal.Number,
            _ => JsonEquals(value.Json, literal.Element),
        },
        // undefined is never strictly equal to anything a JSON literal can express.
        _ => false,
    };

    public static bool JsonEquals(JsonElement a, JsonElement b)
    {
        if (a.ValueKind != b.ValueKind) return false;
        switch (a.ValueKind)
        {
            case JsonValueKind.String:
                return a.ValueEquals(b.GetString());
            case JsonValueKind.Number:
                return a.GetDouble() == b.GetDouble();
            case JsonValueKind.Array:
                var length = a.GetArrayLength();
                if (length != b.GetArrayLength()) return false;
                for (var i = 0; i < length; i++)
                {
                    if (!JsonEquals(a[i], b[i])) return false;
                }
                return true;
            case JsonValueKind.Object:
                var count = 0;
                foreach (var property in a.EnumerateObject())
                {
                    if (!b.TryGetProperty(property.Name, out var other) || !JsonEquals(property.Value, other)) return false;
                    count++;
                }
                foreach (var _ in b.EnumerateObject())
                {
                    count--;
                }
                return count == 0;
            default:
                // true, false and null are fully described by their kind.
                return true;
        }
    }
}
