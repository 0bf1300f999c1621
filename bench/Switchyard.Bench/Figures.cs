using System.Globalization;
using System.Text.Json.Nodes;
using static Switchyard.Bench.Summary;

namespace Switchyard.Bench;

/// <summary>
/// The figures of the summary and their targets. Each figure is computed per run from the raw records
/// (same-run direct baseline for every "added" figure), then reduced to the median over runs.
/// </summary>
internal sealed class Figures(Data data)
{
    private const string Gw = "gateway";
    private const string Direct = "direct";
    private const string Peer = "portkey";

    public List<Figure> All { get; } = [];

    public void Build()
    {
        Throughput();
        AddedLatency();
        Streaming();
        Memory(Gw, "Memory (gateway VmRSS)", withTargets: true);
        Correctness();
        Features();
        PeerSection();
    }

    private void Throughput()
    {
        const string s = "Throughput and CPU (header mode, gateway on one core)";
        Add(s, "peak RPS, JSON small body (closed loop)", "rps", r => P(r, Gw, "json", "small", "peak", "rps"), "≥ 15,000 req/s", v => v >= 15_000, PeakNote("small"));
        Add(s, "peak RPS, JSON 1k body (closed loop)", "rps", r => P(r, Gw, "json", "1k", "peak", "rps"), note: PeakNote("1k"));
        Add(s, "1k body ÷ small body throughput", "x",
            r => P(r, Gw, "json", "1k", "peak", "rps") / P(r, Gw, "json", "small", "peak", "rps"), "≥ 0.80×", v => v >= 0.8);
        Add(s, "CPU per request, JSON small (peak run)", "us", r => P(r, Gw, "json", "small", "peak", "cpu_us_per_req"), "≤ 60 µs", v => v <= 60);
        Add(s, "CPU per request, JSON 1k (peak run)", "us", r => P(r, Gw, "json", "1k", "peak", "cpu_us_per_req"));
        WarmupFigure(s, Gw);
        if (data.Has(Peer))
        {
            Add(s, "peak RPS ÷ Portkey peer (same run, JSON small)", "x",
                r => P(r, Gw, "json", "small", "peak", "rps") / P(r, Peer, "json", "small", "peak", "rps"), "≥ 10×", v => v >= 10,
                "Portkey " + Fmt.Rps(Median(data.Runs.Select(r => P(r, Peer, "json", "small", "peak", "rps")))) + " req/s");
        }
        else
        {
            All.Add(new Figure
            {
                Section = s, Name = "peak RPS ÷ Portkey peer", Unit = "x", PerRun = [],
                TargetText = "≥ 10×", Unavailable = "peer not measured (`--peer portkey`)",
            });
        }
    }

    /// <summary>How much load the process needed before it was measured (JIT tiering), and what it gained.</summary>
    private void WarmupFigure(string section, string target)
    {
        if (!data.Warmup.Any(w => Str(w, "target") == target))
        {
            return;
        }

        string? note = null;
        Add(section, (target.StartsWith("variant:", StringComparison.Ordinal) ? target[8..] + ": " : "") + "warm-up load before measuring", "s", r =>
        {
            var (slices, done) = data.WarmupOf(r, target);
            if (slices.Count == 0)
            {
                return null;
            }

            var settled = done is null ? "?" : Str(done, "settled");
            note ??= string.Create(CultureInfo.InvariantCulture,
                $"first slice {Fmt.Rps(Get(slices[0], "rps"))} req/s at {Fmt.Num(Get(slices[0], "cpu_us_per_req"), 0)} µs/req, last {Fmt.Rps(Get(slices[^1], "rps"))} at {Fmt.Num(Get(slices[^1], "cpu_us_per_req"), 0)} µs/req; {(settled == "true" ? "settled" : settled == "fixed" ? "fixed duration" : "NOT settled at the cap")}");
            return Get(slices[^1], "t_s");
        });
        if (note is not null)
        {
            var last = All[^1];
            All[^1] = new Figure { Section = last.Section, Name = last.Name, Unit = last.Unit, PerRun = last.PerRun, Note = note };
        }
    }

    private string? PeakNote(string body)
    {
        var conns = data.Points.FirstOrDefault(p => Str(p, "target") == Gw && Str(p, "body") == body && Str(p, "kind") == "peak")?["conns"];
        var direct = Median(data.Runs.Select(r => P(r, Direct, "json", body, "peak", "rps")));
        return conns is null ? null : $"c={conns}; direct {Fmt.Rps(direct)}";
    }

    private void AddedLatency()
    {
        const string s = "Added latency (gateway − direct, JSON, same load shape)";
        foreach (var body in new[] { "small", "1k" })
        {
            Add(s, $"c=1 added p50, {body} body", "+us", r => A(r, Gw, "json", body, "c1", "p50_us"), "≤ 50 µs", v => v <= 50);
            Add(s, $"c=1 added p99, {body} body", "+us", r => A(r, Gw, "json", body, "c1", "p99_us"), "≤ 300 µs", v => v <= 300);
            Add(s, $"paced added p50, {body} body", "+us", r => A(r, Gw, "json", body, "paced", "p50_us"), "≤ 150 µs", v => v <= 150);
            Add(s, $"paced added p99, {body} body", "+us", r => A(r, Gw, "json", body, "paced", "p99_us"), "≤ 1 ms", v => v <= 1000);
        }

        Add(s, "paced rate reached through the gateway (small)", "rps", r => P(r, Gw, "json", "small", "paced", "rps"), "≈ 5,000 req/s");
    }

    private void Streaming()
    {
        const string s = "Streaming (SSE)";
        Add(s, "added TTFB p50, c=1 (paced upstream)", "+us", r => T(r, 1, "ttfb_us", "p50"), "≤ 150 µs", v => v <= 150);
        Add(s, "added TTFB p99, c=1", "+us", r => T(r, 1, "ttfb_us", "p99"));
        Add(s, "added first-event p50, c=1", "+us", r => T(r, 1, "first_event_us", "p50"));
        foreach (var c in data.Ttfb.Select(t => (int)(Get(t, "conns") ?? 0)).Distinct().Where(c => c != 1).Order())
        {
            Add(s, $"added TTFB p50, c={c}", "+us", r => T(r, c, "ttfb_us", "p50"));
        }

        var held = data.Runs.ToDictionary(r => r, NoEventHeldBack);
        Add(s, "no event held back (gaps through gateway vs direct, c=1)", "bool", r => held[r].Ok, "yes", v => v >= 0.5,
            held.Values.Select(h => h.Note).FirstOrDefault(n => n is not null));

        Add(s, "streams per second (closed loop, 24-event stream)", "rps", r => P(r, Gw, "sse", "small", "peak", "rps"), "≥ 10,000/s", v => v >= 10_000,
            "direct " + Fmt.Rps(Median(data.Runs.Select(r => P(r, Direct, "sse", "small", "peak", "rps")))));
        Add(s, "CPU per stream (peak run)", "us", r => P(r, Gw, "sse", "small", "peak", "cpu_us_per_req"));
        Add(s, "c=1 added p50, whole stream (wrk)", "+us", r => A(r, Gw, "sse", "small", "c1", "p50_us"));
    }

    /// <summary>
    /// An event is held back when the gateway delivers it together with the next one instead of when it
    /// arrives. Through a gateway that relays at once, the events per stream are the same as direct, events
    /// rarely share a read with the previous one, and the short gaps (p10) stay near the upstream's interval.
    /// </summary>
    private (double? Ok, string? Note) NoEventHeldBack(int run)
    {
        var gw = data.TtfbOf(run, Gw, 1);
        var direct = data.TtfbOf(run, Direct, 1);
        if (gw is null || direct is null)
        {
            return (null, null);
        }

        var total = Get(gw, "events_total") ?? 0;
        var batchedGw = total == 0 ? 1 : (Get(gw, "events_batched") ?? 0) / total;
        var totalDirect = Get(direct, "events_total") ?? 0;
        var batchedDirect = totalDirect == 0 ? 0 : (Get(direct, "events_batched") ?? 0) / totalDirect;
        var sameCount = Get(gw, "events_min") == Get(direct, "events_min") && Get(gw, "events_max") == Get(direct, "events_max");
        var gapP10Gw = Nested(gw, "gap_us", "p10") ?? 0;
        var gapP10Direct = Nested(direct, "gap_us", "p10") ?? 0;
        var ok = sameCount && (Get(gw, "failed") ?? 1) == 0 && batchedGw <= batchedDirect + 0.01 && gapP10Gw >= gapP10Direct - 1000;
        var note = string.Create(CultureInfo.InvariantCulture,
            $"gap p10/p50 {Fmt.Us(gapP10Gw)}/{Fmt.Us(Nested(gw, "gap_us", "p50"))} vs direct {Fmt.Us(gapP10Direct)}/{Fmt.Us(Nested(direct, "gap_us", "p50"))}; batched {batchedGw:P1} vs {batchedDirect:P1}; events {Get(gw, "events_min")} vs {Get(direct, "events_min")}");
        return (ok ? 1 : 0, note);
    }

    private void Memory(string target, string s, bool withTargets)
    {
        if (!data.Memory.Any(m => Str(m, "target") == target))
        {
            return;
        }

        double? M(int r, string f) => Get(data.MemoryOf(r, target), f) / 1024;
        Add(s, "idle (after start-up and one request)", "mib", r => M(r, "idle_kib"), withTargets ? "≤ 50 MiB" : "—", withTargets ? v => v <= 50 : null);
        Add(s, "max under load (sampled every 0.5 s)", "mib", r => M(r, "max_kib"), withTargets ? "≤ 100 MiB" : "—", withTargets ? v => v <= 100 : null);
        Add(s, "5 s after load", "mib", r => M(r, "after_kib"));
        Add(s, "5 s after load − idle", "+mib", r => M(r, "after_kib") - M(r, "idle_kib"), withTargets ? "≤ +30 MiB" : "—", withTargets ? v => v <= 30 : null);
    }

    private void Correctness()
    {
        const string s = "Correctness";
        Add(s, "errors through the gateway (non-2xx + socket, all load points)", "count",
            r => data.Points.Where(p => Run(p) == r && (Str(p, "target") == Gw || Str(p, "target").StartsWith("variant:", StringComparison.Ordinal))).Sum(p => (double)Errors(p))
                 + data.Ttfb.Where(t => Run(t) == r && Str(t, "target") == Gw).Sum(t => Get(t, "failed") ?? 0),
            "0", v => v == 0);
        Add(s, "errors hitting the upstream directly", "count",
            r => data.Points.Where(p => Run(p) == r && Str(p, "target") == Direct).Sum(p => (double)Errors(p)));
        foreach (var check in data.Checks.Where(c => Str(c, "target") == Gw).Select(c => Str(c, "check")).Distinct())
        {
            var first = data.Checks.First(c => Str(c, "check") == check && Str(c, "target") == Gw);
            Add(s, check, "bool", r => data.Checks.LastOrDefault(c => Run(c) == r && Str(c, "target") == Gw && Str(c, "check") == check) is { } c
                ? (c["ok"]?.GetValue<bool>() == true ? 1 : 0) : null, "yes", v => v >= 0.5, Str(first, "detail"));
        }
    }

    private void Features()
    {
        const string s = "Production features (named config, JSON small body)";
        if (data.Variants.Count == 0)
        {
            return;
        }

        var bare = Median(data.Runs.Select(r => A(r, Gw, "json", "small", "c1", "p50_us")));
        Add(s, "bare header mode: peak RPS", "rps", r => P(r, Gw, "json", "small", "peak", "rps"));
        Add(s, "bare header mode: CPU per request", "us", r => P(r, Gw, "json", "small", "peak", "cpu_us_per_req"));
        Add(s, "bare header mode: c=1 added p50", "+us", r => A(r, Gw, "json", "small", "c1", "p50_us"));
        foreach (var v in data.Variants)
        {
            var name = Str(v, "name");
            var desc = Str(v, "description");
            if (v["available"]?.GetValue<bool>() != true)
            {
                All.Add(new Figure
                {
                    Section = s, Name = $"{name}: {desc}", Unit = "", PerRun = [],
                    Unavailable = "not available in this build", Note = Str(v, "reason"),
                });
                continue;
            }

            var t = "variant:" + name;
            Add(s, $"{name}: peak RPS", "rps", r => P(r, t, "json", "small", "peak", "rps"), note: desc);
            Add(s, $"{name}: CPU per request", "us", r => P(r, t, "json", "small", "peak", "cpu_us_per_req"));
            var limit = bare is { } b ? Math.Max(2 * b, 0) : (double?)null;
            Add(s, $"{name}: c=1 added p50", "+us", r => A(r, t, "json", "small", "c1", "p50_us"),
                limit is null ? "≤ 2× bare" : $"≤ 2× bare ({Fmt.Us(limit)})", limit is null ? null : x => x <= limit.Value);
            Add(s, $"{name}: c=1 added p99", "+us", r => A(r, t, "json", "small", "c1", "p99_us"));
            WarmupFigure(s, t);
        }
    }

    private void PeerSection()
    {
        if (!data.Has(Peer))
        {
            return;
        }

        const string s = "Portkey peer (same points, same run; for comparison only)";
        Add(s, "peak RPS, JSON small", "rps", r => P(r, Peer, "json", "small", "peak", "rps"));
        Add(s, "peak RPS, JSON 1k", "rps", r => P(r, Peer, "json", "1k", "peak", "rps"));
        Add(s, "CPU per request, JSON small", "us", r => P(r, Peer, "json", "small", "peak", "cpu_us_per_req"));
        Add(s, "c=1 added p50 / p99, small", "+us", r => A(r, Peer, "json", "small", "c1", "p50_us"),
            note: "p99 " + Fmt.Us(Median(data.Runs.Select(r => A(r, Peer, "json", "small", "c1", "p99_us"))), signed: true));
        Add(s, "paced added p50 / p99, small", "+us", r => A(r, Peer, "json", "small", "paced", "p50_us"),
            note: "p99 " + Fmt.Us(Median(data.Runs.Select(r => A(r, Peer, "json", "small", "paced", "p99_us"))), signed: true));
        Add(s, "added TTFB p50, c=1", "+us", r => Nested(data.TtfbOf(r, Peer, 1), "ttfb_us", "p50") - Nested(data.TtfbOf(r, Direct, 1), "ttfb_us", "p50"));
        Add(s, "streams per second", "rps", r => P(r, Peer, "sse", "small", "peak", "rps"));
        WarmupFigure(s, Peer);
        Memory(Peer, s, withTargets: false);
    }

    private Figure Add(string section, string name, string unit, Func<int, double?> value, string target = "—",
        Func<double, bool>? check = null, string? note = null)
    {
        var figure = new Figure
        {
            Section = section, Name = name, Unit = unit, TargetText = target, Check = check, Note = note,
            PerRun = data.Runs.Select(r => Safe(value, r)).ToArray(),
        };
        All.Add(figure);
        return figure;
    }

    private static double? Safe(Func<int, double?> f, int run) => f(run) is { } v && double.IsFinite(v) ? v : null;

    private static int Run(JsonObject o) => (int)(Get(o, "run") ?? 1);

    private double? P(int run, string target, string mode, string body, string kind, string field) =>
        Get(data.Point(run, target, mode, body, kind), field);

    private double? A(int run, string target, string mode, string body, string kind, string field) =>
        Delta(data.Point(run, target, mode, body, kind), data.Point(run, Direct, mode, body, kind), field);

    private double? T(int run, int conns, string field, string p) =>
        Nested(data.TtfbOf(run, Gw, conns), field, p) - Nested(data.TtfbOf(run, Direct, conns), field, p);
}
