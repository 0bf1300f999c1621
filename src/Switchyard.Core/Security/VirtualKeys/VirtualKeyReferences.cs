using System.Buffers;
using System.Text.Json;

namespace Switchyard.Core.Security.VirtualKeys;

/// <summary>The <c>"model": "@slug/model"</c> form: recognising it and rewriting the model the provider sees.</summary>
public static class VirtualKeyReferences
{
    /// <summary>Splits <c>@slug/model</c>; false for any other model, and for Workers AI's <c>@cf/</c> and <c>@hf/</c> model names.</summary>
    public static bool TrySplitModel(string? model, out string slug, out string rest)
    {
        slug = rest = "";
        if (model is not { Length: > 2 } || model[0] != '@')
        {
            return false;
        }
        var slash = model.IndexOf('/');
        if (slash < 2 || model.StartsWith("@cf/", StringComparison.Ordinal) || model.StartsWith("@hf/", StringComparison.Ordinal))
        {
            return false;
        }
        slug = model[1..slash];
        rest = model[(slash + 1)..];
        return true;
    }

    /// <summary>The model the provider should see for a model the client sent (the part after <c>@slug/</c>, or the model itself).</summary>
    public static string? Effective(string? model) => TrySplitModel(model, out _, out var rest) ? rest : model;

    /// <summary>The body with its top-level <c>model</c> string replaced; every other byte stays as the client sent it.</summary>
    public static ReadOnlyMemory<byte> ReplaceModel(ReadOnlyMemory<byte> body, string model)
    {
        var reader = new Utf8JsonReader(body.Span);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return body;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isModel = reader.ValueTextEquals("model"u8);
            reader.Read();
            if (isModel && reader.TokenType == JsonTokenType.String)
            {
                var start = (int)reader.TokenStartIndex;
                // The raw token is the value's bytes as written (escapes included) between two quotes.
                var end = start + reader.ValueSpan.Length + 2;
                var output = new ArrayBufferWriter<byte>(body.Length + model.Length);
                output.Write(body.Span[..start]);
                using (var writer = new Utf8JsonWriter(output))
                {
                    writer.WriteStringValue(model);
                }
                output.Write(body.Span[end..]);
                return output.WrittenMemory;
            }
            reader.Skip();
        }
        return body;
    }
}
