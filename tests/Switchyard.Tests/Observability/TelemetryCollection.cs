using Xunit;

namespace Switchyard.Tests.Observability;

/// <summary>
/// Tests that depend on who listens to the process-wide <c>Switchyard</c> activity source: a tracer started by one
/// gateway makes every engine in the process create spans, so these run alone, after the parallel tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Process-wide telemetry listeners";
}
