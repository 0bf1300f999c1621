using Switchyard.Core.Caching;
using Switchyard.Core.Routing;
using Switchyard.Core.Telemetry;
using Switchyard.Core.Usage;

namespace Switchyard.Core.Pipeline.Steps;

/// <summary>Looks the leaf's request up in the response cache before anything is translated or sent; a hit answers for the leaf.</summary>
public sealed class CacheLookupStep(ResponseCache? cache) : ILeafStep
{
    public async ValueTask RunAsync(LeafExchange leaf, CancellationToken ct)
    {
        if (cache is null)
        {
            return;
        }
        var lookup = cache.Begin(leaf.Request, leaf.Target, leaf.Body);
        leaf.Cache = lookup;
        if (!lookup.IsEnabled)
        {
            return;
        }
        var started = leaf.Context.Elapsed;
        var span = SwitchyardTracing.StartCacheLookup(leaf.Context);
        HttpResponseMessage? hit;
        try
        {
            hit = await lookup.TryHitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            if (span is not null)
            {
                SwitchyardTracing.EndCacheLookup(span, lookup);
            }
        }
        if (hit is null)
        {
            return;
        }
        var context = leaf.Context;
        if (context.WantsUsage)
        {
            // The stored answer's usage, logged with the hit (it is not billed again).
            var isEventStream = hit.Content.Headers.ContentType?.MediaType == "text/event-stream";
            hit.Content = new UsageTapContent(hit.Content, isEventStream, context);
        }
        context.AddAttempt(new AttemptRecord(leaf.Leaf.OptionPath, leaf.Target.Provider.Slug, 200, 0, "cache_hit",
            (context.Elapsed - started).TotalMilliseconds));
        leaf.Finish(RouteOutcome.FromResponse(hit, null));
    }
}
