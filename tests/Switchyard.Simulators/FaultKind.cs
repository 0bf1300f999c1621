namespace Switchyard.Simulators;

/// <summary>The ways a <see cref="SimulatedFault"/> can disturb a response.</summary>
public enum FaultKind
{
    /// <summary>Answer with an error status and an OpenAI-shaped error body.</summary>
    Error,

    /// <summary>Wait before sending the response headers, then answer normally.</summary>
    Delay,

    /// <summary>Send the response headers at once, then wait before the body.</summary>
    SlowFirstByte,

    /// <summary>Send some stream events (or half a JSON body), then abort the connection.</summary>
    CutStream,

    /// <summary>Answer 200 with a truncated, unparsable JSON body.</summary>
    MalformedJson,

    /// <summary>Never answer; hold the request until the client goes away.</summary>
    Hang,

    /// <summary>Answer with <see cref="SimulatedFault.Body"/> as it is (status <see cref="SimulatedFault.StatusCode"/>): an upstream that says something else than its API.</summary>
    Body,
}
