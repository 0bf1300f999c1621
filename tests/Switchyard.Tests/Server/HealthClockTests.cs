using System.Text.Json;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Server;

/// <summary><c>/v1/health</c> reads the engine's clock: the uptime and the config store's <c>loaded_at</c>.</summary>
public sealed class HealthClockTests
{
    /// <summary>A clock whose wall time and monotonic timestamp both move only when the test says so.</summary>
    private sealed class SteppedClock(DateTimeOffset start) : TimeProvider
    {
        private long _ticks;

        public override DateTimeOffset GetUtcNow() => start + TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    [Fact]
    public async Task Uptime_and_config_load_time_come_from_the_engine_clock()
    {
        var start = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var clock = new SteppedClock(start);
        await using var gw = await TestGateway.StartAsync(new Dictionary<string, string> { ["one.json"] = """{"provider":"openai","api_key":"k"}""" }, time: clock);
        clock.Advance(TimeSpan.FromSeconds(90));

        using var health = JsonDocument.Parse(await gw.Client.GetStringAsync("/v1/health"));
        Assert.Equal(90, health.RootElement.GetProperty("uptime_seconds").GetDouble());
        var store = health.RootElement.GetProperty("config_store");
        Assert.Equal(["one"], store.GetProperty("configs").EnumerateArray().Select(c => c.GetString()!).ToArray());
        Assert.Equal(start, store.GetProperty("loaded_at").GetDateTimeOffset());
    }
}
