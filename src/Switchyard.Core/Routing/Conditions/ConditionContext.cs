using System.Text.Json;
using Switchyard.Core.Requests;
using Switchyard.Core.Usage.Pricing;
using Switchyard.Core.Usage.Tokens;

namespace Switchyard.Core.Routing.Conditions;

/// <summary>The per-request facts a <see cref="ConditionQuery"/> reads: metadata, the (lazily parsed) body, the path, the body size,
/// and the prompt's token count and expected price, each worked out only when a query reads it.</summary>
/// <remarks>Not thread-safe: one instance serves one request, possibly for several queries, so the body is parsed, and the prompt
/// tokenized, at most once.</remarks>
public sealed class ConditionContext
{
    /// <summary>Completion tokens <see cref="EstimatedCost"/> assumes when the request sets no <c>max_tokens</c>-like limit.</summary>
    public const long DefaultExpectedOutputTokens = 256;

    private readonly Func<JsonElement> _bodyAccessor;
    private readonly EndpointKind? _endpoint;
    private readonly PriceTable _prices;
    private readonly DateTimeOffset _requestTime;
    private JsonElement _body;
    private bool _bodyRead;
    private long? _estimatedTokens;
    private double? _estimatedCost;
    private bool _costRead;

    /// <param name="metadata">The parsed <c>x-portkey-metadata</c> object, or <c>default</c> when absent (every <c>metadata.*</c> key is then undefined).</param>
    /// <param name="bodyAccessor">Parses the JSON request body; called at most once, and only when a <c>params.*</c> or token-based key is evaluated.</param>
    /// <param name="pathname">The request path, e.g. <c>/v1/chat/completions</c>.</param>
    /// <param name="bodyLength">The request body size in bytes.</param>
    /// <remarks>Prices with <see cref="PriceTable.Default"/> at the current time; the router passes its own table and the request's start.</remarks>
    public ConditionContext(JsonElement metadata, Func<JsonElement> bodyAccessor, string pathname, long bodyLength)
        : this(metadata, bodyAccessor, pathname, bodyLength, null, PriceTable.Default, DateTimeOffset.UtcNow)
    {
    }

    /// <param name="metadata">The parsed <c>x-portkey-metadata</c> object, or <c>default</c> when absent.</param>
    /// <param name="bodyAccessor">Parses the JSON request body; called at most once, and only when a key needs it.</param>
    /// <param name="pathname">The request path, e.g. <c>/v1/chat/completions</c>.</param>
    /// <param name="bodyLength">The request body size in bytes.</param>
    /// <param name="endpoint">What the client called, which settles the body's format for the token count; null: recognised by shape.</param>
    /// <param name="prices">The price table for <c>request.estimated_cost</c>.</param>
    /// <param name="requestTime">When the request arrived: the price in force then applies.</param>
    public ConditionContext(JsonElement metadata, Func<JsonElement> bodyAccessor, string pathname, long bodyLength,
        EndpointKind? endpoint, PriceTable prices, DateTimeOffset requestTime)
    {
        ArgumentNullException.ThrowIfNull(bodyAccessor);
        ArgumentNullException.ThrowIfNull(pathname);
        ArgumentNullException.ThrowIfNull(prices);
        ArgumentOutOfRangeException.ThrowIfNegative(bodyLength);
        Metadata = metadata;
        _bodyAccessor = bodyAccessor;
        Pathname = pathname;
        BodyLength = bodyLength;
        _endpoint = endpoint;
        _prices = prices;
        _requestTime = requestTime;
    }

    /// <summary>The <c>metadata</c> root.</summary>
    public JsonElement Metadata { get; }

    /// <summary>The <c>url.pathname</c> value.</summary>
    public string Pathname { get; }

    /// <summary>The <c>request.body_bytes</c> value.</summary>
    public long BodyLength { get; }

    /// <summary>The <c>request.estimated_tokens</c> value: the prompt's tokens as <c>params.model</c>'s tokenizer counts them (see
    /// <see cref="TokenCounter.CountPrompt(string?, ReadOnlySpan{byte})"/>); 0 for a body with no prompt.</summary>
    public long EstimatedTokens => _estimatedTokens ??= TokenCounter.CountPrompt(Model, Body, _endpoint);

    /// <summary>
    /// The <c>request.estimated_cost</c> value in USD: the prompt at <c>params.model</c>'s input price, plus the completion it allows
    /// (<c>max_completion_tokens</c>, <c>max_output_tokens</c> or <c>max_tokens</c>, else <see cref="DefaultExpectedOutputTokens"/>;
    /// times <c>n</c>) at its output price, as priced when the request arrived. Null when the model has no price.
    /// </summary>
    public double? EstimatedCost
    {
        get
        {
            if (!_costRead)
            {
                _costRead = true;
                // The provider is not known yet (choosing it is what the query is for), so the model's name alone finds the price.
                var price = _prices.Find(null, Model, _requestTime);
                if (price is not null)
                {
                    _estimatedCost = (double)price.Estimate(EstimatedTokens, ExpectedOutputTokens());
                }
            }
            return _estimatedCost;
        }
    }

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

    private string? Model => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String
        ? model.GetString()
        : null;

    private long ExpectedOutputTokens()
    {
        var body = Body;
        if (body.ValueKind != JsonValueKind.Object) return DefaultExpectedOutputTokens;
        var limit = PositiveWhole(body, "max_completion_tokens") ?? PositiveWhole(body, "max_output_tokens") ?? PositiveWhole(body, "max_tokens")
            ?? DefaultExpectedOutputTokens;
        var choices = PositiveWhole(body, "n") ?? 1;
        // Bounded so an absurd limit cannot overflow; far beyond any model's real output limit either way.
        return Math.Min(limit, 100_000_000) * Math.Min(choices, 128);
    }

    private static long? PositiveWhole(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) && n > 0 ? n : null;
}
