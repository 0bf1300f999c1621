using System.Text.Json;

namespace Switchyard.Core.Requests;

/// <summary>The few facts the gateway needs from a JSON body, read with one forward-only pass and no tree.</summary>
public readonly record struct RequestBodyFacts(bool IsValidJson, bool IsObject, string? Model, bool Stream, string? Error)
{
    public static RequestBodyFacts Read(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return new(false, false, null, false, "the request body is empty; a JSON object is required");
        }
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        string? model = null;
        var stream = false;
        try
        {
            if (!reader.Read())
            {
                return new(false, false, null, false, "the request body is empty; a JSON object is required");
            }
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                return new(true, false, null, false, "the request body must be a JSON object");
            }
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0)
                {
                    break;
                }
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
                {
                    continue;
                }
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    model = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    stream = reader.TokenType == JsonTokenType.True;
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            // Anything after the top-level value is a syntax error a real API would reject too.
            if (reader.Read())
            {
                return new(false, true, model, stream, "unexpected content after the JSON object");
            }
        }
        catch (JsonException ex)
        {
            return new(false, false, null, false, $"the request body is not valid JSON ({TrimMessage(ex.Message)})");
        }
        return new(true, true, model, stream, null);
    }

    private static string TrimMessage(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
