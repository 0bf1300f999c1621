using Microsoft.Extensions.DependencyInjection.Extensions;
using Switchyard.Core.Limits;
using Switchyard.Core.Pipeline;
using Switchyard.Gateway.Hosting;

namespace Switchyard.Gateway.Mcp.Policy;

/// <summary>Policy services: <see cref="IMcpPolicy"/> (<see cref="McpPolicy"/>), its pins and rate limiter, and the call gate.</summary>
public static class McpPolicyServices
{
    /// <summary>
    /// Registers <see cref="McpToolPins"/> (persisted in <see cref="McpToolPins.FileName"/> under <c>DATA_PATH</c> when the engine or
    /// <see cref="ServerOptions"/> is registered; in memory otherwise), <see cref="McpRateLimiter"/> (Redis counters when the engine has
    /// Redis), <see cref="McpPolicy"/> as <see cref="IMcpPolicy"/>, and <see cref="McpCallGate"/>. Registrations made before win (tests).
    /// </summary>
    public static IServiceCollection AddMcpPolicy(this IServiceCollection services, McpOptions options)
    {
        services.TryAddSingleton(sp =>
        {
            var engine = sp.GetService<SwitchyardEngine>();
            var dataPath = engine?.Settings.DataPath ?? sp.GetService<ServerOptions>()?.Engine.DataPath;
            return new McpToolPins(dataPath is null ? null : Path.Combine(dataPath, McpToolPins.FileName), engine?.Time ?? TimeProvider.System,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("Switchyard.Mcp.Pins"), engine?.Metrics.Meter);
        });
        services.TryAddSingleton(sp =>
        {
            var engine = sp.GetService<SwitchyardEngine>();
            var time = engine?.Time ?? TimeProvider.System;
            ILimitCounterStore? shared = engine?.Redis is { } redis
                ? new RedisLimitCounterStore(redis.DatabaseAsync, engine.Settings.UsageLimits.RedisTimeout, time)
                : null;
            return new McpRateLimiter(shared, time, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Switchyard.Mcp.RateLimits"),
                engine?.Settings.Cache.KeyPrefix ?? "switchyard:");
        });
        services.TryAddSingleton<McpPolicy>();
        services.TryAddSingleton<IMcpPolicy>(sp => sp.GetRequiredService<McpPolicy>());
        services.TryAddSingleton(sp => new McpCallGate(sp.GetRequiredService<IMcpPolicy>(), options, sp.GetServices<IMcpCallObserver>(),
            sp.GetService<SwitchyardEngine>()?.Time));
        return services;
    }
}
