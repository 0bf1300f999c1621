using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Switchyard.Core.Configs;

/// <summary>Reads config text (JSON, or YAML for files ending .yaml/.yml) into a JSON tree.</summary>
public static class ConfigText
{
    // Duplicate keys refused: one value would be silently dropped, and the JSON tree throws on them when a walk first reaches them.
    private static readonly JsonDocumentOptions JsonOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowDuplicateProperties = false };

    // The same depth JSON configs are held to (System.Text.Json's default), so a YAML file cannot build a tree the compiler refuses as JSON.
    private const int MaxDepth = 64;

    // YAML aliases are shared nodes; expanding them naively lets a small file ("billion laughs") become an enormous tree.
    private const int MaxNodes = 200_000;

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
            var reason = ex.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd(' ', '|');
            error = $"invalid JSON at line {(ex.LineNumber ?? 0) + 1}, position {(ex.BytePositionInLine ?? 0) + 1}: {reason}";
            return null;
        }
    }

    /// <summary>Parses YAML into the same JSON tree a JSON config would give; on a syntax error returns null and says where.</summary>
    public static JsonNode? ParseYaml(string text, out string? error)
    {
        try
        {
            // A file nested thousands deep would overflow the stack of the recursive loader and take the process with it.
            error = CheckNesting(text);
            if (error is not null)
            {
                return null;
            }
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            error = null;
            if (stream.Documents.Count == 0)
            {
                error = "the YAML file is empty";
                return null;
            }
            var budget = MaxNodes;
            return Convert(stream.Documents[0].RootNode, 0, ref budget, out error);
        }
        catch (YamlException ex)
        {
            error = $"invalid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}";
            return null;
        }
    }

    /// <summary>Measures nesting with YamlDotNet's event parser, which keeps its own stack, before the tree loader, which recurses per level.</summary>
    private static string? CheckNesting(string text)
    {
        var parser = new Parser(new StringReader(text));
        var depth = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case MappingStart or SequenceStart:
                    if (++depth > MaxDepth)
                    {
                        return $"the YAML is nested too deeply (more than {MaxDepth} levels) at line {parser.Current.Start.Line}";
                    }
                    break;
                case MappingEnd or SequenceEnd:
                    depth--;
                    break;
            }
        }
        return null;
    }

    private static JsonNode? Convert(YamlNode node, int depth, ref int budget, out string? error)
    {
        error = null;
        if (depth > MaxDepth)
        {
            error = $"the YAML is nested too deeply (more than {MaxDepth} levels) at line {node.Start.Line}";
            return null;
        }
        if (--budget < 0)
        {
            error = $"the YAML expands to more than {MaxNodes} values (check its aliases)";
            return null;
        }
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (k, v) in map.Children)
                {
                    if (k is not YamlScalarNode key)
                    {
                        error = $"a mapping key at line {k.Start.Line}, column {k.Start.Column} is not a plain value; config keys are names";
                        return null;
                    }
                    var value = Convert(v, depth + 1, ref budget, out error);
                    if (error is not null)
                    {
                        return null;
                    }
                    obj[key.Value ?? ""] = value;
                }
                return obj;
            case YamlSequenceNode seq:
                var arr = new JsonArray();
                foreach (var item in seq.Children)
                {
                    var value = Convert(item, depth + 1, ref budget, out error);
                    if (error is not null)
                    {
                        return null;
                    }
                    arr.Add(value);
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
