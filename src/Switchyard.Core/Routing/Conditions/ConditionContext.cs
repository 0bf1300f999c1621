using System.Text.Json;

namespace Switchyard.Core.Routing.Conditions;

/// <summary>The per-request facts a <see cref="ConditionQuery"/> reads: metadata, the (lazily parsed) body, the path and the body size.</summary>
/// <remarks>Not thread-safe: one instance serves one request, possibly for several queries, so the body is parsed at most once.</remarks>
public sealed class ConditionContext
{
    private readonly Func<JsonElement> _bodyAccessor;
    private JsonElement _body;
    private bool _bodyRead;

    /// <param name="metadata">The parsed <c>x-portkey-metadata</c> object, or <c>default</c> when absent (every <c>metadata.*</c> key is then undefined).</param>
    /// <param name="bodyAccessor">Parses the JSON request body; called at most once, and only when a <c>params.*</c> key is evaluated.</param>
    /// <param name="pathname">The request path, e.g. <c>/v1/chat/completions</c>.</param>
    /// <param name="bodyLength">The request body size in bytes.</param>
    public ConditionContext(JsonElement metadata, Func<JsonElement> bodyAccessor, string pathname, long bodyLength)
    {
        ArgumentNullException.ThrowIfNull(bodyAccessor);
        ArgumentNullException.ThrowIfNull(pathname);
        ArgumentOutOfRangeException.ThrowIfNegative(bodyLength);
        Metadata = metadata;
        _bodyAccessor = bodyAccessor;
        Pathname = pathname;
        BodyLength = bodyLength;
    }

    /// <summary>The <c>metadata</c> root.</summary>
    public JsonElement Metadata { get; }

    /// <summary>The <c>url.pathname</c> value.</summary>
    public string Pathname { get; }

    /// <summary>The <c>request.body_bytes</c> value.</summary>
    public long BodyLength { get; }

    /// <summary>The <c>request.estimated_tokens</c> value: one token per four bytes, rounded up.</summary>
    public long EstimatedTokens => BodyLength / 4 + (BodyLength % 4 == 0 ? 0 : 1);

    /// <summary>The <c>params</c> root, parsed on first use.</summary>
    internal JsonElement Body
    {
        get
        {
            if (!_bodyRead)
            {
                _body = _bodyAccessor();
                _bodyRead = true;
            }
            return _body;
        }
    }
}
