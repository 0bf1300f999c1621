using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Switchyard.Core.Configs;

/// <summary>Reads config text (JSON, or YAML for files ending .yaml/.yml) into a JSON tree.</summary>
public static class ConfigText
{
    private static readonly JsonDocumentOptions JsonOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Parses JSON; on a syntax error returns null and says where.</summary>
    public static JsonNode? ParseJson(string text, out string? error)
    {
        try
        {
            error = null;
            var node = JsonNode.Parse(text, documentOptions: JsonOptions);
            if (node is null)
            {
                error = "the config is JSON null";
            }
            return node;
        }
        catch (JsonException ex)
        {
            error = $"invalid JSON at line {(ex.LineNumber ?? 0) + 1}, position {(ex.BytePositionInLine ?? 0) + 1}";
            return null;
        }
    }

    /// <summary>Parses YAML into the same JSON tree a JSON config would give; on a syntax error returns null and says where.</summary>
    public static JsonNode? ParseYaml(string text, out string? error)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            error = null;
            if (stream.Documents.Count == 0)
            {
                error = "the YAML file is empty";
                return null;
            }
            return Convert(stream.Documents[0].RootNode);
        }
        catch (YamlException ex)
        {
            error = $"invalid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}";
            return null;
        }
    }

    private static JsonNode? Convert(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (k, v) in map.Children)
                {
                    obj[((YamlScalarNode)k).Value ?? ""] = Convert(v);
                }
                return obj;
            case YamlSequenceNode seq:
                var arr = new JsonArray();
                foreach (var item in seq.Children)
                {
                    arr.Add(Convert(item));
                }
                return arr;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                return null;
        }
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        // Quoted scalars are always strings; plain ones follow YAML 1.2 core-schema typing.
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
        {
            return JsonValue.Create(value);
        }
        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && char.IsAsciiDigit(value[^1]))
        {
            return JsonValue.Create(d);
        }
        return JsonValue.Create(value);
    }
}
