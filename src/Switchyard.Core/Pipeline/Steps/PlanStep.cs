using Switchyard.Core.Routing;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Pipeline.Steps;

/// <summary>Decides how the provider is called (native bytes or translated through canonical chat) and translates the request once.</summary>
public sealed class PlanStep : ILeafStep
{
    public ValueTask RunAsync(LeafExchange leaf, CancellationToken ct)
    {
        var call = LeafCall.Plan(leaf.Request, leaf.Target, leaf.Adapter, leaf.Body, leaf.Context, leaf.Context.Time, out var error);
        if (call is null)
        {
            leaf.Finish(RouteOutcome.FromError(error!));
        }
        leaf.Call = call;
        return ValueTask.CompletedTask;
    }
}
