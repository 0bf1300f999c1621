using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Pipeline;

public sealed class TraceIdTests
{
    [Fact]
    public void Trace_ids_are_uuid_v7_stamped_from_the_engine_clock_and_unique()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        var ids = new HashSet<string>();
        for (var i = 0; i < 10_000; i++)
        {
            var id = TraceIds.NewId(clock);
            Assert.True(ids.Add(id), $"duplicate {id}");
            var guid = Guid.Parse(id);
            Assert.Equal(7, guid.Version);
            Assert.Equal(id, guid.ToString());
            Assert.Contains(id[19], "89ab"); // the RFC 9562 variant
            // The first 48 bits are the clock's unix milliseconds.
            var ms = Convert.ToInt64(id[..8] + id[9..13], 16);
            Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds(), ms);
        }
        clock.Advance(TimeSpan.FromMilliseconds(5));
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds(), Convert.ToInt64(TraceIds.NewId(clock)[..8] + TraceIds.NewId(clock)[9..13], 16));
    }
}
