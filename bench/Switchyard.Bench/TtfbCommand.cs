using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Switchyard.Bench;

/// <summary>
/// Streaming client for what wrk cannot see: per request, the time to response headers, to the first body
/// byte, to the first complete SSE event and to the end, plus the gaps between consecutive events and how
/// many events arrived in the same read as the one before (a sign that something held an event back).
/// Keep-alive connections; N requests spread over C concurrent workers; W warm-up requests are not recorded.
/// Prints one line: <c>TTFBJSON {...}</c> (times in microseconds).
/// </summary>
internal static class TtfbCommand
{
    public static async Task<int> RunAsync(CommandLine options)
    {
        var url = new Uri(options.Required("url"));
        var loopback = url.Host == "localhost" || (IPAddress.TryParse(url.Host, out var ip) && IPAddress.IsLoopback(ip));
        if (!loopback)
        {
            throw new ArgumentException("--url must be a loopback address");
        }

        var body = await File.ReadAllBytesAsync(options.Required("body")).ConfigureAwait(false);
        var headers = options.All("header").Select(ParseHeader).ToArray();
        var n = options.Int("n", 200);
        var c = Math.Max(1, options.Int("c", 1));
        var warmup = options.Int("warmup", Math.Max(10, 2 * c));
        var label = options.Optional("label") ?? "";
        var timeout = TimeSpan.FromSeconds(options.Int("timeout-s", 30));

        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = int.MaxValue,
            UseCookies = false,
        };
        using var client = new HttpClient(handler) { Timeout = timeout };

        await RunWorkersAsync(client, url, body, headers, warmup, c, null).ConfigureAwait(false);
        var samples = new List<Sample>(n);
        var started = Stopwatch.GetTimestamp();
        await RunWorkersAsync(client, url, body, headers, n, c, samples).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);

        Console.WriteLine("TTFBJSON " + Report(label, n, c, elapsed, samples));
        return samples.Any(s => s.Ok) ? 0 : 1;
    }

    private static (string Name, string Value) ParseHeader(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new ArgumentException($"--header takes 'Name: value', got '{text}'");
        }

        return (text[..colon].Trim(), text[(colon + 1)..].Trim());
    }

    private static async Task RunWorkersAsync(HttpClient client, Uri url, byte[] body, (string Name, string Value)[] headers,
        int count, int concurrency, List<Sample>? samples)
    {
        var next = 0;
        async Task Worker()
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                var sample = await OneAsync(client, url, body, headers).ConfigureAwait(false);
                if (samples is not null)
                {
                    lock (samples)
                    {
                        samples.Add(sample);
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Worker))).ConfigureAwait(false);
    }

    private static async Task<Sample> OneAsync(HttpClient client, Uri url, byte[] body, (string Name, string Value)[] headers)
    {
        var sample = new Sample();
        var buffer = new byte[16 * 1024];
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Version = HttpVersion.Version11 };
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var t0 = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            sample.HeadersUs = Us(t0);
            sample.Status = (int)response.StatusCode;
            using var stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);

            // An event ends at a blank line; '\r' is ignored so CRLF streams count the same.
            var newlines = 0;
            long lastEvent = -1;
            var tail = new Queue<byte>();
            int read;
            while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                var now = Us(t0);
                if (sample.FirstByteUs < 0)
                {
                    sample.FirstByteUs = now;
                }

                var eventsInRead = 0;
                for (var i = 0; i < read; i++)
                {
                    var b = buffer[i];
                    if (b == (byte)'\r')
                    {
                        continue;
                    }

                    tail.Enqueue(b);
                    if (tail.Count > 16)
                    {
                        tail.Dequeue();
                    }

                    newlines = b == (byte)'\n' ? newlines + 1 : 0;
                    if (newlines == 2)
                    {
                        sample.Events++;
                        eventsInRead++;
                        if (sample.FirstEventUs < 0)
                        {
                            sample.FirstEventUs = now;
                        }
                        else
                        {
                            sample.Gaps.Add(now - lastEvent);
                        }

                        lastEvent = now;
                    }
                }

                if (eventsInRead > 1)
                {
                    sample.Batched += eventsInRead - 1;
                }

                sample.Bytes += read;
            }

            sample.TotalUs = Us(t0);
            var end = System.Text.Encoding.ASCII.GetString(tail.ToArray());
            sample.Ok = sample.Status == 200 && end.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal);
            if (!sample.Ok)
            {
                sample.Error = sample.Status != 200 ? $"HTTP {sample.Status}" : "stream did not end with data: [DONE]";
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
        {
            sample.TotalUs = Us(t0);
            sample.Error = ex.GetType().Name + ": " + ex.Message;
        }

        return sample;
    }

    private static long Us(long t0) => (long)Stopwatch.GetElapsedTime(t0).TotalMicroseconds;

    private static string Report(string label, int n, int c, TimeSpan elapsed, List<Sample> samples)
    {
        var ok = samples.Where(s => s.Ok).ToList();
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("label", label);
            w.WriteNumber("n", n);
            w.WriteNumber("conns", c);
            w.WriteNumber("ok", ok.Count);
            w.WriteNumber("failed", samples.Count - ok.Count);
            w.WriteNumber("elapsed_s", Math.Round(elapsed.TotalSeconds, 3));
            w.WriteNumber("streams_per_s", Math.Round(samples.Count / elapsed.TotalSeconds, 1));
            Percentiles.Write(w, "headers_us", ok.Select(s => s.HeadersUs));
            Percentiles.Write(w, "ttfb_us", ok.Select(s => s.FirstByteUs));
            Percentiles.Write(w, "first_event_us", ok.Select(s => s.FirstEventUs));
            Percentiles.Write(w, "total_us", ok.Select(s => s.TotalUs));
            Percentiles.Write(w, "gap_us", ok.SelectMany(s => s.Gaps));
            w.WriteNumber("events_min", ok.Count == 0 ? 0 : ok.Min(s => s.Events));
            w.WriteNumber("events_max", ok.Count == 0 ? 0 : ok.Max(s => s.Events));
            w.WriteNumber("events_total", ok.Sum(s => (long)s.Events));
            w.WriteNumber("events_batched", ok.Sum(s => (long)s.Batched));
            w.WriteNumber("bytes_per_stream", ok.Count == 0 ? 0 : ok[0].Bytes);
            var firstError = samples.FirstOrDefault(s => !s.Ok)?.Error;
            if (firstError is not null)
            {
                w.WriteString("first_error", firstError);
            }

            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private sealed class Sample
    {
        public int Status;
        public bool Ok;
        public string? Error;
        public long HeadersUs = -1;
        public long FirstByteUs = -1;
        public long FirstEventUs = -1;
        public long TotalUs = -1;
        public int Events;
        public int Batched;
        public long Bytes;
        public List<long> Gaps { get; } = [];
    }
}

/// <summary>Nearest-rank percentiles.</summary>
internal static class Percentiles
{
    public static readonly (string Name, double P)[] Points =
        [("p10", 10), ("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9)];

    public static long Of(IReadOnlyList<long> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    public static void Write(Utf8JsonWriter w, string name, IEnumerable<long> values)
    {
        var sorted = values.Order().ToList();
        w.WriteStartObject(name);
        w.WriteNumber("count", sorted.Count);
        foreach (var (label, p) in Points)
        {
            w.WriteNumber(label, Of(sorted, p));
        }

        w.WriteNumber("max", sorted.Count == 0 ? 0 : sorted[^1]);
        w.WriteNumber("mean", sorted.Count == 0 ? 0 : Math.Round(sorted.Average(), 1));
        w.WriteEndObject();
    }
}
