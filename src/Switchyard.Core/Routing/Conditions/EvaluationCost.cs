namespace Switchyard.Core.Routing.Conditions;

/// <summary>What evaluating a query key may cost, cheapest first; groups evaluate their cheaper children first.</summary>
internal enum EvaluationCost
{
    /// <summary>Metadata, the path and the body size: already at hand.</summary>
    Cheap,

    /// <summary>A <c>params.*</c> key: the body is parsed (once per request).</summary>
    ParsesBody,

    /// <summary><c>request.estimated_tokens</c> / <c>request.estimated_cost</c>: the body is parsed and the prompt tokenized (once per request).</summary>
    CountsTokens,
}
