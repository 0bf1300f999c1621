using System.Text.Json;

namespace Switchyard.Core.Routing.Conditions;

/// <summary>The value a query key resolves to for one request; a struct so resolving allocates nothing.</summary>
internal readonly struct FieldValue
{
    private FieldValue(FieldValueKind kind, JsonElement json, string? text, double number)
    {
        Kind = kind;
        Json = json;
        Text = text;
        Number = number;
    }

    public static FieldValue Undefined => default;

    public FieldValueKind Kind { get; }

    public JsonElement Json { get; }

    public string? Text { get; }

    public double Number { get; }

    public static FieldValue FromJson(JsonElement json) => new(FieldValueKind.Json, json, null, 0);

    public static FieldValue FromText(string text) => new(FieldValueKind.Text, default, text, 0);

    public static FieldValue FromNumber(double number) => new(FieldValueKind.Number, default, null, number);

    /// <summary>The value as a string when it is one (allocates for JSON strings), else null.</summary>
    public string? AsString() => Kind switch
    {
        FieldValueKind.Text => Text,
        FieldValueKind.Json when Json.ValueKind == JsonValueKind.String => Json.GetString(),
        _ => null,
    };
}
