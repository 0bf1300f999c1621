namespace Switchyard.Simulators;

/// <summary>Settings for one <see cref="OpenAiSimulator"/> instance.</summary>
/// <remarks>Stream settings are read per request, so a test may change them while the simulator runs.</remarks>
public sealed class SimulatorOptions
{
    /// <summary>Loopback port to bind; 0 lets the OS pick a free one.</summary>
    public int Port { get; set; }

    /// <summary>Identifies the simulator in the <c>x-simulator-name</c> response header and in model owners.</summary>
    public string Name { get; set; } = "sim";

    /// <summary>When set, the bearer key must equal this value; otherwise any non-empty key is accepted.</summary>
    public string? RequiredApiKey { get; set; }

    /// <summary>Pause between two stream events (none when zero).</summary>
    public TimeSpan StreamEventInterval { get; set; } = TimeSpan.Zero;

    /// <summary>Words of generated text per streamed content chunk.</summary>
    public int StreamChunkWords { get; set; } = 1;

    /// <summary>Keep a log of requests; the standalone benchmark runner turns this off to keep the hot path lean.</summary>
    public bool RecordRequests { get; set; } = true;
}
