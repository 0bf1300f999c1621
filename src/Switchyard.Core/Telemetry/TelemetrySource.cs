using System.Diagnostics;
using System.Reflection;

namespace Switchyard.Core.Telemetry;

/// <summary>
/// The one name the gateway's meter and activity source share, <c>Switchyard</c>: a tracer or meter provider that adds
/// it gets every span and series the gateway makes, including those of components that create their own source under it.
/// </summary>
public static class TelemetrySource
{
    public const string Name = "Switchyard";

    public static readonly string Version =
        typeof(TelemetrySource).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>
    /// The source of every gateway span. Process-wide (an activity source holds no state of its own): without a
    /// listener <see cref="ActivitySource.HasListeners"/> is false and no span is made.
    /// </summary>
    public static ActivitySource Activities { get; } = new(Name, Version);
}
