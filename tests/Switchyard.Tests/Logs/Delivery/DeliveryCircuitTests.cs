using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchyard.Core.Logs.Delivery;
using Xunit;

namespace Switchyard.Tests.Logs.Delivery;

/// <summary>The breaker counts consecutive failures only, allows one probe at a time, and re-arms its backoff when a probe fails.</summary>
public sealed class DeliveryCircuitTests
{
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_success_between_failures_resets_the_count()
    {
        var circuit = new DeliveryCircuit(3, TimeSpan.FromSeconds(60), Clock, NullLogger.Instance, "test");
        circuit.Failed(CallPermit.Allowed, "x");
        circuit.Failed(CallPermit.Allowed, "x");
        circuit.Succeeded(CallPermit.Allowed);
        circuit.Failed(CallPermit.Allowed, "x");
        circuit.Failed(CallPermit.Allowed, "x");
        Assert.False(circuit.IsOpen);
        circuit.Failed(CallPermit.Allowed, "x");
        Assert.True(circuit.IsOpen);
    }

    [Fact]
    public void Only_one_probe_is_allowed_once_the_backoff_has_passed()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        var circuit = new DeliveryCircuit(1, TimeSpan.FromSeconds(60), clock, NullLogger.Instance, "test");
        circuit.Failed(CallPermit.Allowed, "x");
        Assert.Equal(CallPermit.Denied, circuit.TryBeginCall());
        Assert.Equal(TimeSpan.FromSeconds(60), circuit.UntilCallAllowed());

        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(TimeSpan.Zero, circuit.UntilCallAllowed());
        Assert.Equal(CallPermit.Probe, circuit.TryBeginCall());
        Assert.Equal(CallPermit.Denied, circuit.TryBeginCall());
        Assert.Null(circuit.UntilCallAllowed());

        // A call begun before the circuit opened does not close it; the probe's answer does.
        circuit.Succeeded(CallPermit.Allowed);
        Assert.True(circuit.IsOpen);
        circuit.Failed(CallPermit.Probe, "still down");
        Assert.Equal(TimeSpan.FromSeconds(60), circuit.UntilCallAllowed());

        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(CallPermit.Probe, circuit.TryBeginCall());
        circuit.Succeeded(CallPermit.Probe);
        Assert.False(circuit.IsOpen);
        Assert.Equal(CallPermit.Allowed, circuit.TryBeginCall());
    }

    [Fact]
    public void An_abandoned_probe_lets_the_next_caller_probe_at_once()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        var circuit = new DeliveryCircuit(1, TimeSpan.FromSeconds(60), clock, NullLogger.Instance, "test");
        circuit.Failed(CallPermit.Allowed, "x");
        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(CallPermit.Probe, circuit.TryBeginCall());
        circuit.Abandoned(CallPermit.Probe);
        Assert.Equal(CallPermit.Probe, circuit.TryBeginCall());
    }
}
