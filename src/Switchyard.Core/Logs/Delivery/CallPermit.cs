namespace Switchyard.Core.Logs.Delivery;

/// <summary>What the circuit breaker allows for one store call.</summary>
internal enum CallPermit
{
    /// <summary>The circuit is open (or a probe is already out): do not call the store.</summary>
    Denied,

    /// <summary>The circuit is closed: call the store.</summary>
    Allowed,

    /// <summary>The backoff has passed: this one call decides whether the circuit closes again.</summary>
    Probe,
}
