using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Core.Logs;
using Xunit;

namespace Switchyard.Tests.Logs;

/// <summary>The local log store rolls files at a size and keeps the directory under its total limit.</summary>
public sealed class LogRotationTests
{
    private static RequestLogRecord Record(DateTimeOffset at, int i) => new()
    {
        TraceId = "t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + new string('x', 200),
        StartedAt = at,
        Method = "POST",
        Path = "/v1/chat/completions",
        Function = "chatComplete",
        Status = 200,
    };

    [Fact]
    public async Task Files_roll_at_the_size_limit_and_the_oldest_are_deleted_beyond_the_total()
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-rotation-").FullName;
        try
        {
            var writer = new JsonLinesLogWriter(dir, 100_000, NullLogger.Instance, fileLimitBytes: 4096, totalLimitBytes: 16_384);
            writer.Start();
            var day = new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);
            for (var i = 0; i < 400; i++)
            {
                Assert.True(writer.TryWrite(Record(day, i)));
                if (i % 20 == 0)
                {
                    await Task.Delay(5); // let the writer drain so files roll in order
                }
            }
            await writer.DisposeAsync();

            var files = new DirectoryInfo(dir).GetFiles("requests-*.jsonl");
            Assert.True(files.Length >= 2, "several files after rolling");
            Assert.All(files, f => Assert.True(f.Length < 4096 + 1024, $"{f.Name} is {f.Length} bytes"));
            Assert.True(files.Sum(f => f.Length) <= 16_384 + 4096 + 1024, "total stays near its limit");
            // The newest records survive; the oldest went with the deleted files.
            var lines = files.SelectMany(f => File.ReadAllLines(f.FullName)).ToList();
            Assert.Contains(lines, l => l.Contains("\"t399x", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, l => l.Contains("\"t0x", StringComparison.Ordinal));
            Assert.Equal(400, writer.Written);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
