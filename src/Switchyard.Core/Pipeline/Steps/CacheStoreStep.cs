namespace Switchyard.Core.Pipeline.Steps;

/// <summary>Wraps a successful answer so that, once the client has received all of it, it is stored in the cache.</summary>
public sealed class CacheStoreStep : ILeafStep
{
    public ValueTask RunAsync(LeafExchange leaf, CancellationToken ct)
    {
        if (leaf.Cache.IsEnabled && leaf.Outcome is { IsSuccess: true, Response: { } response } outcome)
        {
            outcome.Response = leaf.Cache.StoreOnCompletion(response);
        }
        return ValueTask.CompletedTask;
    }
}
