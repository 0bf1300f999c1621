using System.Globalization;
using System.Text.Json;

namespace Switchyard.Core.Routing.Conditions;

/// <summary>Turns values into numbers for <c>$gt</c>/<c>$gte</c>/<c>$lt</c>/<c>$lte</c> the way Portkey's JavaScript <c>parseFloat</c> does, for numbers and strings only.</summary>
internal static class NumericCoercion
{
    public static bool TryGetNumber(in FieldValue value, out double number)
    {
        switch (value.Kind)
        {
            case FieldValueKind.Number:
                number = value.Number;
                return true;
            case FieldValueKind.Text:
                return TryParseLeadingNumber(value.Text, out number);
            case FieldValueKind.Json when value.Json.ValueKind == JsonValueKind.Number:
                number = value.Json.GetDouble();
                return true;
            case FieldValueKind.Json when value.Json.ValueKind == JsonValueKind.String:
                return TryParseLeadingNumber(value.Json.GetString(), out number);
            default:
                // Booleans, null, arrays and objects: parseFloat gives NaN (or something surprising for one-element
                // arrays); they never compare.
                number = double.NaN;
                return false;
        }
    }

    public static bool TryGetNumber(JsonElement element, out double number)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
                number = element.GetDouble();
                return true;
            case JsonValueKind.String:
                return TryParseLeadingNumber(element.GetString(), out number);
            default:
                number = double.NaN;
                return false;
        }
    }

    /// <summary>
    /// parseFloat: skip leading whitespace, then read the longest prefix of the form <c>[+-]digits[.digits][e[+-]digits]</c>
    /// (either digit run may be empty, not both) or <c>[+-]Infinity</c>; whatever follows is ignored, so "12px" is 12
    /// and "0x1A" is 0. No prefix means not a number.
    /// </summary>
    public static bool TryParseLeadingNumber(string? text, out double number)
    {
        number = double.NaN;
        if (text is null) return false;

        var start = 0;
        while (start < text.Length && (char.IsWhiteSpace(text[start]) || text[start] == '\uFEFF')) start++;

        var i = start;
        var negative = false;
        if (i < text.Length && text[i] is '+' or '-')
        {
            negative = text[i] == '-';
            i++;
        }

        if (string.CompareOrdinal(text, i, "Infinity", 0, 8) == 0)
        {
            number = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }

        var digits = 0;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
            digits++;
        }
        if (i < text.Length && text[i] == '.')
        {
            var afterPoint = i + 1;
            var fraction = 0;
            while (afterPoint + fraction < text.Length && char.IsAsciiDigit(text[afterPoint + fraction])) fraction++;
            if (digits + fraction > 0)
            {
                i = afterPoint + fraction;
                digits += fraction;
            }
        }
        if (digits == 0) return false;

        if (i < text.Length && text[i] is 'e' or 'E')
        {
            var e = i + 1;
            if (e < text.Length && text[e] is '+' or '-') e++;
            var exponentStart = e;
            while (e < text.Length && char.IsAsciiDigit(text[e])) e++;
            if (e > exponentStart) i = e;
        }

        number = double.Parse(text.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture);
        return true;
    }
}
