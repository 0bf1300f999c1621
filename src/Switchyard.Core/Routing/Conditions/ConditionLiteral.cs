using System.Text.Json;

namespace Switchyard.Core.Routing.Conditions;

/// <summary>A JSON value written in a query, detached from the config document and with its scalar form pre-extracted.</summary>
internal sealed class ConditionLiteral
{
    public ConditionLiteral(JsonElement element)
    {
        // Cloned so the compiled query outlives the JsonDocument the config was parsed from.
        Element = element.Clone();
        if (Element.ValueKind == JsonValueKind.String) Text = Element.GetString();
        else if (Element.ValueKind == JsonValueKind.Number) Number = Element.GetDouble();
    }

    public JsonElement Element { get; }

    public JsonValueKind Kind => Element.ValueKind;

    public string? Text { get; }

    public double Number { get; }
}
