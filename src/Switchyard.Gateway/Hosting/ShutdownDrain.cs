namespace Switchyard.Gateway.Hosting;

/// <summary>
/// On a stop signal, turns readiness to 503 at once and keeps the listener serving for <c>SHUTDOWN_DRAIN_SECONDS</c>, so
/// Kubernetes removes the pod from its Service endpoints before the server stops accepting; the graceful stop follows.
/// </summary>
/// <remarks>
/// Runs in <see cref="IHostedLifecycleService.StoppingAsync"/>, which the host awaits before any hosted service (Kestrel
/// included) stops. The host's shutdown timeout is drain + grace (see GatewayApp), so the grace period is not eaten by the drain.
/// </remarks>
internal sealed class ShutdownDrain(GatewayReadiness readiness, ServerOptions options, ILogger<ShutdownDrain> logger) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        readiness.BeginDrain();
        if (options.ShutdownDrain <= TimeSpan.Zero)
        {
            return;
        }
        try
        {
            await Task.Delay(options.ShutdownDrain, options.Time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's own timeout or a second signal: go on to the graceful stop.
        }
        logger.LogInformation("Drain of {Drain} s over: the listener stops accepting connections", options.ShutdownDrain.TotalSeconds);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
