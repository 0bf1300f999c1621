namespace Switchyard.Simulators;

/// <summary>Settings for one <see cref="OpenAiSimulator"/> instance.</summary>
public sealed class SimulatorOptions
{
    /// <summary>Loopback port to bind; 0 lets the OS pick a free one.</summary>
    public int Port { get; init; }

    /// <summary>Identifies the simulator in the <c>x-simulator-name</c> response header and in model owners.</summary>
    public string Name { get; init; } = "sim";

    /// <summary>When set, the bearer key must equal this value; otherwise any non-empty key is accepted.</summary>
    public string? RequiredApiKey { get; init; }

    /// <summary>Pause between two stream events (none when zero).</summary>
    public TimeSpan StreamEventInterval { get; init; } = TimeSpan.Zero;

    /// <summary>Words of generated text per streamed content chunk.</summary>
    public int StreamChunkWords { get; init; } = 1;

    /// <summary>Keep a log of requests; the standalone benchmark runner turns this off to keep the hot path lean.</summary>
    public bool RecordRequests { get; init; } = true;
}
