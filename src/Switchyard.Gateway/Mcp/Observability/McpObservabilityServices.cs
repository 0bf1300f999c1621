using Switchyard.Core.Pipeline;

namespace Switchyard.Gateway.Mcp.Observability;

/// <summary>Registers the <see cref="IMcpCallObserver"/>s: the request log, <c>/metrics</c> and traces.</summary>
public static class McpObservabilityServices
{
    /// <summary>
    /// Registers <see cref="McpRequestLogObserver"/> (when the engine has a request log), <see cref="McpMetrics"/> (scoped to the engine's
    /// meter, bounded by <c>METRICS_LABEL_VALUE_LIMIT</c>) and <see cref="McpTracing"/>, each as an <see cref="IMcpCallObserver"/>.
    /// Without a <see cref="SwitchyardEngine"/> in DI (bare test hosts) only metrics (default bound) and tracing are registered.
    /// </summary>
    public static IServiceCollection AddMcpObservability(this IServiceCollection services, McpOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(sp =>
        {
            var engine = sp.GetService<SwitchyardEngine>();
            return new McpMetrics(engine?.Settings.Telemetry.LabelValueLimit ?? new Core.Telemetry.TelemetryOptions().LabelValueLimit, engine?.Metrics);
        });
        services.AddSingleton<McpTracing>();
        services.AddSingleton<IMcpCallObserver>(sp => new ObserverList(
        [
            .. sp.GetService<SwitchyardEngine>()?.RequestLog is { } sink
                ? [new McpRequestLogObserver(sink, sp.GetService<ILogger<McpRequestLogObserver>>())]
                : Array.Empty<IMcpCallObserver>(),
            sp.GetRequiredService<McpMetrics>(),
            sp.GetRequiredService<McpTracing>(),
        ], sp.GetRequiredService<ILogger<ObserverList>>()));
        return services;
    }

    /// <summary>The observers as one: each runs, and one that throws neither stops the others nor reaches the caller.</summary>
    internal sealed class ObserverList(IReadOnlyList<IMcpCallObserver> observers, ILogger<ObserverList> logger) : IMcpCallObserver
    {
        public IReadOnlyList<IMcpCallObserver> Observers => observers;

        public void OnCompleted(McpCallRecord record)
        {
            foreach (var observer in observers)
            {
                try
                {
                    observer.OnCompleted(record);
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "MCP observer {Observer} failed on {Method}", observer.GetType().Name, record.Method);
                }
            }
        }
    }
}
