using System.Text.Json;

namespace Switchyard.Core.Routing.Conditions;

/// <summary>A parsed query key such as <c>params.messages.0.role</c>: a root plus any number of property or array-index segments.</summary>
internal sealed class FieldPath
{
    private readonly string[] _segments;
    private readonly int[] _indexes;

    private FieldPath(FieldRoot root, string[] segments)
    {
        Root = root;
        _segments = segments;
        _indexes = new int[segments.Length];
        for (var i = 0; i < segments.Length; i++) _indexes[i] = ParseIndex(segments[i]);
    }

    public FieldRoot Root { get; }

    /// <summary>What resolving the path costs: <c>params.*</c> parses the body, the token-based keys tokenize the prompt as well.</summary>
    public EvaluationCost Cost => Root switch
    {
        FieldRoot.Params => EvaluationCost.ParsesBody,
        FieldRoot.RequestEstimatedTokens or FieldRoot.RequestEstimatedCost => EvaluationCost.CountsTokens,
        _ => EvaluationCost.Cheap,
    };

    public static FieldPath? Parse(string key, out string? error)
    {
        error = null;
        var parts = key.Split('.');
        foreach (var part in parts)
        {
            if (part.Length == 0)
            {
                error = $"Key '{key}' has an empty path segment.";
                return null;
            }
        }

        switch (parts[0])
        {
            case "metadata":
            case "params":
                if (parts.Length == 1)
                {
                    error = $"Key '{key}' must name a field, e.g. '{key}.model'.";
                    return null;
                }
                return new FieldPath(parts[0] == "metadata" ? FieldRoot.Metadata : FieldRoot.Params, parts[1..]);
            case "url":
                if (parts is [_, "pathname"]) return new FieldPath(FieldRoot.UrlPathname, []);
                error = $"Key '{key}' is not supported; the only url field is 'url.pathname'.";
                return null;
            case "request":
                if (parts is [_, "body_bytes"]) return new FieldPath(FieldRoot.RequestBodyBytes, []);
                if (parts is [_, "estimated_tokens"]) return new FieldPath(FieldRoot.RequestEstimatedTokens, []);
                if (parts is [_, "estimated_cost"]) return new FieldPath(FieldRoot.RequestEstimatedCost, []);
                error = $"Key '{key}' is not supported; the request fields are 'request.body_bytes', 'request.estimated_tokens' and 'request.estimated_cost'.";
                return null;
            default:
                error = $"Key '{key}' has an unknown root; keys start with 'metadata.', 'params.', 'url.pathname' or 'request.'.";
                return null;
        }
    }

    public FieldValue Resolve(ConditionContext context) => Root switch
    {
        FieldRoot.Metadata => Walk(context.Metadata),
        FieldRoot.Params => Walk(context.Body),
        FieldRoot.UrlPathname => FieldValue.FromText(context.Pathname),
        FieldRoot.RequestBodyBytes => FieldValue.FromNumber(context.BodyLength),
        FieldRoot.RequestEstimatedTokens => FieldValue.FromNumber(context.EstimatedTokens),
        _ => context.EstimatedCost is { } cost ? FieldValue.FromNumber(cost) : FieldValue.Undefined,
    };

    private FieldValue Walk(JsonElement current)
    {
        for (var i = 0; i < _segments.Length; i++)
        {
            switch (current.ValueKind)
            {
                case JsonValueKind.Object:
                    if (!current.TryGetProperty(_segments[i], out current)) return FieldValue.Undefined;
                    break;
                case JsonValueKind.Array:
                    var index = _indexes[i];
                    if (index < 0 || index >= current.GetArrayLength()) return FieldValue.Undefined;
                    current = current[index];
                    break;
                default:
                    return FieldValue.Undefined;
            }
        }
        return current.ValueKind == JsonValueKind.Undefined ? FieldValue.Undefined : FieldValue.FromJson(current);
    }

    // Only canonical decimal indexes address array elements ("01" and "+1" do not), matching how JavaScript turns a
    // property name into an array index.
    private static int ParseIndex(string segment)
    {
        if (segment.Length is 0 or > 9 || (segment.Length > 1 && segment[0] == '0')) return -1;
        var value = 0;
        foreach (var c in segment)
        {
            if (c is < '0' or > '9') return -1;
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
