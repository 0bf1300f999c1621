using System.Buffers.Binary;
using System.Text.Json;

namespace Switchyard.Simulators;

/// <summary><c>POST …/embeddings</c>: deterministic vectors as float arrays or base64 little-endian float32.</summary>
internal static class EmbeddingsEndpoint
{
    private const int DefaultDimensions = 8;

    public static SimReply Handle(SimRequest request)
    {
        if (RequestFields.ParseWithModel(request, out var root, out var model) is { } rejected)
        {
            return rejected;
        }

        if (ReadInputs(root, out var inputs, out var tokens) is { } badInput)
        {
            return badInput;
        }

        if (RequestFields.OptionalPositiveInt(root, "dimensions", DefaultDimensions, out var dimensions) is { } badDimensions)
        {
            return badDimensions;
        }

        var format = RequestFields.OptionalString(root, "encoding_format") ?? "float";
        if (format is not ("float" or "base64"))
        {
            return OpenAiErrors.InvalidRequest($"Invalid value: '{format}'. Supported values are: 'float' and 'base64'.", "encoding_format", "invalid_value");
        }

        var vectors = new float[inputs.Count][];
        for (var i = 0; i < vectors.Length; i++)
        {
            vectors[i] = DeterministicVector.For(inputs[i], dimensions);
        }
        return ListReply(vectors, format, model, tokens);
    }

    /// <summary>OpenAI's embeddings list body: one <c>embedding</c> object per input (floats, or base64 float32), model and usage.</summary>
    public static SimReply ListReply(IReadOnlyList<float[]> vectors, string format, string model, int tokens) =>
        SimReply.Json(JsonOut.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            for (var i = 0; i < vectors.Count; i++)
            {
                var vector = vectors[i];
                w.WriteStartObject();
                w.WriteString("object", "embedding");
                w.WriteNumber("index", i);
                if (format == "base64")
                {
                    w.WriteString("embedding", ToBase64(vector));
                }
                else
                {
                    w.WriteStartArray("embedding");
                    foreach (var value in vector)
                    {
                        w.WriteNumberValue(value);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteString("model", model);
            w.WriteStartObject("usage");
            w.WriteNumber("prompt_tokens", tokens);
            w.WriteNumber("total_tokens", tokens);
            w.WriteEndObject();
            w.WriteEndObject();
        }));

    /// <summary>The layout OpenAI's SDKs decode: raw little-endian IEEE-754 float32 values, base64-encoded.</summary>
    public static string ToBase64(float[] vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        }

        return Convert.ToBase64String(bytes);
    }

    /// <summary>Inputs as text (token arrays become their numbers joined by spaces) and a token count for usage.</summary>
    private static SimReply? ReadInputs(JsonElement root, out List<string> inputs, out int tokens)
    {
        inputs = [];
        tokens = 0;
        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
        {
            return OpenAiErrors.MissingParameter("input");
        }

        if (input.ValueKind == JsonValueKind.String)
        {
            return AddText(input.GetString() ?? "", inputs, ref tokens);
        }

        if (input.ValueKind != JsonValueKind.Array)
        {
            return OpenAiErrors.InvalidType("input", "a string or an array", input);
        }

        if (input.GetArrayLength() == 0)
        {
            return OpenAiErrors.InvalidRequest("'$.input' is invalid. Expected a non-empty string or array.", "input");
        }

        if (input[0].ValueKind == JsonValueKind.Number)
        {
            return AddTokens(input, inputs, ref tokens);
        }

        foreach (var item in input.EnumerateArray())
        {
            var error = item.ValueKind switch
            {
                JsonValueKind.String => AddText(item.GetString() ?? "", inputs, ref tokens),
                JsonValueKind.Array => AddTokens(item, inputs, ref tokens),
                _ => OpenAiErrors.InvalidRequest("'$.input' is invalid. Expected strings or arrays of token integers.", "input"),
            };
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    private static SimReply? AddText(string text, List<string> inputs, ref int tokens)
    {
        if (text.Length == 0)
        {
            return OpenAiErrors.InvalidRequest("'$.input' is invalid. Input strings must not be empty.", "input");
        }

        inputs.Add(text);
        tokens += Math.Max(1, TextPieces.CountWords(text));
        return null;
    }

    private static SimReply? AddTokens(JsonElement array, List<string> inputs, ref int tokens)
    {
        var parts = new List<string>();
        foreach (var token in array.EnumerateArray())
        {
            if (token.ValueKind != JsonValueKind.Number || !token.TryGetInt32(out var id))
            {
                return OpenAiErrors.InvalidRequest("'$.input' is invalid. Token arrays must contain integers.", "input");
            }

            parts.Add(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (parts.Count == 0)
        {
            return OpenAiErrors.InvalidRequest("'$.input' is invalid. Token arrays must not be empty.", "input");
        }

        inputs.Add(string.Join(' ', parts));
        tokens += parts.Count;
        return null;
    }
}
