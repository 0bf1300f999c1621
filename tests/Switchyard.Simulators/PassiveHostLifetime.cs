using Microsoft.Extensions.Hosting;

namespace Switchyard.Simulators;

/// <summary>
/// Replaces the console lifetime so an in-process simulator never hooks Ctrl-C/SIGTERM of the test
/// process; the standalone runner handles signals itself.
/// </summary>
internal sealed class PassiveHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
