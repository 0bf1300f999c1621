using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails;

/// <summary>One text-bearing place in a body: its text, and where to write a replacement (null owner = read-only placeholder).</summary>
/// <remarks>Placeholders keep indexes aligned with Portkey's text arrays, where a non-text part (an image) counts as <c>""</c>.</remarks>
internal readonly record struct TextSlot(string Text, JsonNode? Owner, string? Property, int Index)
{
    public static TextSlot Placeholder => new("", null, null, -1);

    public static TextSlot OfProperty(string text, JsonObject owner, string property) => new(text, owner, property, -1);

    public static TextSlot OfElement(string text, JsonArray owner, int index) => new(text, owner, null, index);

    public bool CanWrite => Owner is not null;

    public void Write(string value)
    {
        if (Owner is JsonObject o && Property is not null) o[Property] = value;
        else if (Owner is JsonArray a && Index >= 0) a[Index] = value;
    }
}
