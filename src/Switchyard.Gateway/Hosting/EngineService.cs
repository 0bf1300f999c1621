using Switchyard.Core.Pipeline;

namespace Switchyard.Gateway.Hosting;

/// <summary>Starts the engine's background work with the host (config watching, the cache store's first connection).</summary>
internal sealed class EngineService(SwitchyardEngine engine) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        engine.Start();
        return Task.CompletedTask;
    }

    // The engine itself is disposed with the host's services: queued log records are written, connections closed.
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
