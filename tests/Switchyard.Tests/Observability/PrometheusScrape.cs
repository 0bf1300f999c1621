using System.Globalization;
using System.Text.Json;
using Switchyard.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Observability;

/// <summary>
/// One <c>/metrics</c> scrape as a Prometheus text-format parser reads it: the body goes through npm
/// <c>parse-prometheus-text-format</c> (tests/node-clients/parse-metrics.mjs), and the tests query the JSON it prints.
/// </summary>
public sealed class PrometheusScrape
{
    private readonly Dictionary<string, JsonElement> _families;

    private PrometheusScrape(string text, JsonElement parsed)
    {
        Text = text;
        _families = parsed.EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.Clone());
    }

    /// <summary>The scrape as served.</summary>
    public string Text { get; }

    public IEnumerable<string> Names => _families.Keys;

    public static async Task<PrometheusScrape> FetchAsync(HttpClient client, Uri url, ITestOutputHelper output)
    {
        using var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {url} answered {(int)response.StatusCode}: {text}");
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType ?? "", StringComparison.Ordinal);
        return await ParseAsync(text, output);
    }

    public static async Task<PrometheusScrape> ParseAsync(string text, ITestOutputHelper output)
    {
        var (stdout, exit) = await NodeClients.RunAsync("parse-metrics.mjs", new Dictionary<string, string>(), TimeSpan.FromSeconds(60),
            new QuietOutput(output), "parse-prometheus-text-format", stdin: text);
        Assert.Equal(0, exit);
        return new PrometheusScrape(text, JsonDocument.Parse(stdout).RootElement);
    }

    /// <summary>The family's TYPE as the parser read it (COUNTER, GAUGE, HISTOGRAM, …); fails when the family is absent.</summary>
    public string Type(string family) => Family(family).GetProperty("type").GetString()!;

    public string Help(string family) => Family(family).GetProperty("help").GetString()!;

    public bool Has(string family) => _families.ContainsKey(family);

    /// <summary>Every sample of a family whose labels include <paramref name="labels"/>.</summary>
    public IReadOnlyList<Sample> Samples(string family, params (string Name, string Value)[] labels) =>
        [.. Family(family).GetProperty("metrics").EnumerateArray().Select(Sample.From).Where(s => s.Matches(labels))];

    /// <summary>The sum of the values (counters, gauges) or of the counts (histograms) of the matching samples.</summary>
    public double Sum(string family, params (string Name, string Value)[] labels) => Samples(family, labels).Sum(s => s.Value);

    /// <summary>The sum of a histogram's <c>_sum</c> over the matching samples.</summary>
    public double HistogramSum(string family, params (string Name, string Value)[] labels) => Samples(family, labels).Sum(s => s.HistogramSum);

    private JsonElement Family(string family) =>
        _families.TryGetValue(family, out var f) ? f : throw new Xunit.Sdk.XunitException($"/metrics has no family {family}; it has: {string.Join(", ", _families.Keys.Order())}");

    /// <summary>One sample: labels and a value (a histogram's count, with its sum and buckets).</summary>
    public sealed record Sample(IReadOnlyDictionary<string, string> Labels, double Value, double HistogramSum, IReadOnlyDictionary<string, double> Buckets)
    {
        public string? Label(string name) => Labels.TryGetValue(name, out var v) ? v : null;

        public bool Matches((string Name, string Value)[] labels) => labels.All(l => Label(l.Name) == l.Value);

        public static Sample From(JsonElement m)
        {
            var labels = m.TryGetProperty("labels", out var l)
                ? l.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)
                : new Dictionary<string, string>();
            if (m.TryGetProperty("buckets", out var buckets))
            {
                return new Sample(labels, Number(m.GetProperty("count")), Number(m.GetProperty("sum")),
                    buckets.EnumerateObject().ToDictionary(b => b.Name, b => Number(b.Value)));
            }
            return new Sample(labels, Number(m.GetProperty("value")), 0, new Dictionary<string, double>());
        }

        private static double Number(JsonElement e) => e.ValueKind == JsonValueKind.Number
            ? e.GetDouble()
            : double.Parse(e.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>Keeps a whole scrape's JSON out of the test log; the scrape text is logged by the tests that want it.</summary>
    private sealed class QuietOutput(ITestOutputHelper inner) : ITestOutputHelper
    {
        public void WriteLine(string message)
        {
            if (message.Length < 2000)
            {
                inner.WriteLine(message);
            }
        }

        public void WriteLine(string format, params object[] args) => WriteLine(string.Format(CultureInfo.InvariantCulture, format, args));
    }
}
