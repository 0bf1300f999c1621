using Switchyard.Core.Logs.Bodies;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Requests;
using Switchyard.Core.Translation;
using Switchyard.Core.Usage.Pricing;
using Switchyard.Core.Usage.Tokens;

namespace Switchyard.Core.Usage;

/// <summary>
/// Settles a finished request's usage and cost, once, before metrics and the log read them: the provider's own usage
/// when it sent one; otherwise (a stream cut short, a provider that reports none) a tokenizer estimate marked
/// <c>estimated</c>; and the price from the price table, null for a model it does not know. A cache hit costs nothing.
/// </summary>
internal sealed class UsageAccounting(PriceTable prices)
{
    public PriceTable Prices => prices;

    public void Settle(RequestContext context)
    {
        if (!context.WantsUsage)
        {
            return; // nothing reads usage or cost (no log store, no usage metrics): do not count tokens for nobody
        }
        if (context.Request is { } request && Estimable(context, request)
            && (context.Usage is null || context.ClientAborted || context.UpstreamBroke))
        {
            // No usage, or usage from a stream that ended early: its last usage event (Anthropic's message_start, say)
            // counts the prompt but not the text that was delivered.
            Estimate(context, request, context.Usage);
        }
        if (context.Usage is not { } usage)
        {
            return;
        }
        if (context.CacheStatus is Caching.CacheStatus.Hit or Caching.CacheStatus.SemanticHit)
        {
            context.Cost = 0m; // answered from the cache: no provider billed it
            return;
        }
        var model = context.ResponseModel ?? (context.Request is { } r && r.Endpoint.HasJsonBody() ? r.BodyFacts.Model : null);
        context.Cost = prices.Cost(context.Provider, model, usage, context.StartedAt);
    }

    /// <summary>A provider answered (the answer started) on an endpoint whose usage is counted in tokens.</summary>
    private static bool Estimable(RequestContext context, GatewayRequest request) =>
        context.Error is null && context.Status is >= 200 and < 300 && context.ResponseBytes > 0
        && request.Endpoint is EndpointKind.ChatComplete or EndpointKind.Complete or EndpointKind.Messages or EndpointKind.CreateModelResponse or EndpointKind.Embed;

    private static void Estimate(RequestContext context, GatewayRequest request, TokenUsage? partial)
    {
        var model = request.BodyFacts.Model;
        // A prompt count the provider did report is exact; keep it.
        var prompt = partial is { PromptTokens: > 0 } p ? p.PromptTokens : TokenCounter.CountPrompt(model, request.Body.Span, request.Endpoint);
        long completion = 0;
        if (context.ResponseCapture is { } capture && request.Endpoint != EndpointKind.Embed)
        {
            var isStream = context.ResponseContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
            var answer = isStream ? StreamReassembler.Reassemble(capture.Bytes.Span) : ParseObject(capture.Bytes.Span);
            completion = TokenCounter.CountText(model, CompletionText.From(answer));
        }
        completion = Math.Max(completion, partial?.CompletionTokens ?? 0);
        context.SetEstimatedUsage(new TokenUsage(prompt, completion, prompt + completion, partial?.CachedPromptTokens ?? 0, 0, partial?.CacheWriteTokens ?? 0));
    }

    private static System.Text.Json.Nodes.JsonObject? ParseObject(ReadOnlySpan<byte> body)
    {
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(body) as System.Text.Json.Nodes.JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
