using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Switchyard.Bench;

/// <summary>
/// Turns the raw records of a benchmark run (env.json and the *.jsonl files written by run.sh) into
/// results.json (every measured point plus the computed figures) and summary.md (figure, target, pass/fail
/// per section). With several runs every figure is the median over runs, with the spread (min–max).
/// </summary>
internal static class Summary
{
    public static int Run(string dir)
    {
        var env = File.Exists(Path.Combine(dir, "env.json"))
            ? JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "env.json")))!.AsObject()
            : [];
        var data = new Data(
            ReadLines(dir, "points.jsonl"), ReadLines(dir, "ttfb.jsonl"), ReadLines(dir, "memory.jsonl"),
            ReadLines(dir, "checks.jsonl"), ReadLines(dir, "variants.jsonl"), ReadLines(dir, "warmup.jsonl"));
        var figures = new Figures(data);
        figures.Build();

        var results = new JsonObject
        {
            ["env"] = env.DeepClone(),
            ["runs"] = new JsonArray(data.Runs.Select(r => (JsonNode)r).ToArray()),
            ["figures"] = new JsonArray(figures.All.Select(f => (JsonNode)f.ToJson()).ToArray()),
            ["points"] = new JsonArray(data.Points.Select(p =>
            {
                var copy = p.DeepClone().AsObject();
                copy["errors"] = Errors(p);
                return (JsonNode)copy;
            }).ToArray()),
            ["ttfb"] = new JsonArray(data.Ttfb.Select(p => p.DeepClone()).ToArray()),
            ["memory"] = new JsonArray(data.Memory.Select(p => p.DeepClone()).ToArray()),
            ["checks"] = new JsonArray(data.Checks.Select(p => p.DeepClone()).ToArray()),
            ["variants"] = new JsonArray(data.Variants.Select(p => p.DeepClone()).ToArray()),
            ["warmup"] = new JsonArray(data.Warmup.Select(p => p.DeepClone()).ToArray()),
        };
        File.WriteAllText(Path.Combine(dir, "results.json"), results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

        var md = Markdown(env, data, figures);
        File.WriteAllText(Path.Combine(dir, "summary.md"), md);
        Console.Write(md);
        return 0;
    }

    private static List<JsonObject> ReadLines(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        if (!File.Exists(path))
        {
            return [];
        }

        return File.ReadLines(path)
            .Where(l => l.TrimStart().StartsWith('{'))
            .Select(l => JsonNode.Parse(l)!.AsObject())
            .ToList();
    }

    private static string Markdown(JsonObject env, Data data, Figures figures)
    {
        var sb = new StringBuilder();
        var multi = data.Runs.Count > 1;
        sb.Append("# Switchyard load benchmark\n\n```\n");
        foreach (var (key, value) in env)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{key + ":",-16} {value?.ToString()}\n");
        }

        sb.Append("```\n\n");
        var passed = figures.All.Count(f => f.Pass == true);
        var failed = figures.All.Where(f => f.Pass == false).ToList();
        sb.Append(CultureInfo.InvariantCulture,
            $"**{passed} targets met, {failed.Count} missed**{(failed.Count > 0 ? ": " + string.Join("; ", failed.Select(f => f.Name)) : "")}.");
        sb.Append(multi
            ? string.Create(CultureInfo.InvariantCulture, $" Figures are medians of {data.Runs.Count} runs; spread = min–max over runs.\n")
            : " One run (use `--runs 3` for medians and spread).\n");

        var noisy = data.Points.Where(p => (Get(p, "gw_core_other_pct") ?? 0) > 5).ToList();
        if (noisy.Count > 0)
        {
            var worst = noisy.MaxBy(p => Get(p, "gw_core_other_pct") ?? 0)!;
            sb.Append(CultureInfo.InvariantCulture,
                $"\n> **Disturbed:** other programs used more than 5 % of the gateway's core during {noisy.Count} of {data.Points.Count} load points (worst {Math.Min(Get(worst, "gw_core_other_pct") ?? 0, 100):0} % during {Str(worst, "target")}/{Str(worst, "mode")}/{Str(worst, "body")}/{Str(worst, "kind")}). Figures from those points are not trustworthy; rerun on a quiet machine.\n");
        }

        foreach (var section in figures.All.Select(f => f.Section).Distinct())
        {
            sb.Append("\n## ").Append(section).Append("\n\n");
            sb.Append(multi ? "| figure | value | spread | target | result |\n|---|--:|--:|---|---|\n" : "| figure | value | target | result |\n|---|--:|---|---|\n");
            foreach (var f in figures.All.Where(f => f.Section == section))
            {
                sb.Append("| ").Append(f.Name).Append(" | ").Append(f.Display());
                if (multi)
                {
                    sb.Append(" | ").Append(f.Spread());
                }

                sb.Append(" | ").Append(f.TargetText).Append(" | ").Append(f.Result()).Append(" |\n");
            }
        }

        var warm = data.Warmup.Where(w => w["phase"] is null).ToList();
        if (warm.Count > 0)
        {
            sb.Append("\n## Warm-up (closed loop, before the measured points)\n\n");
            sb.Append("Each row is one slice of load. JIT methods = lines of the runtime's perf map (every compiled method version); tier1 = methods with their final optimized code.\n\n");
            sb.Append("| target | run | t | load | RPS | CPU µs/req | JIT methods | tier1 | instrumented |\n|---|--:|--:|---|--:|--:|--:|--:|--:|\n");
            foreach (var w in warm)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"| {w["target"]} | {w["run"]} | {w["t_s"]} s | {w["mode"]} {w["body"]} | {Fmt.Rps(Get(w, "rps"))} | {Fmt.Num(Get(w, "cpu_us_per_req"), 1)} | {Jit(w, "jit_methods")} | {Jit(w, "tier1_methods")} | {Jit(w, "instrumented_methods")} |\n");
            }
        }

        sb.Append("\n## All load points").Append(multi ? " (median over runs)" : "").Append("\n\n");
        sb.Append("Latencies from wrk (µs); Δ = this target minus direct for the same mode, body and load shape. ");
        sb.Append("CPU = the measured process's utime+stime over the run ÷ requests.\n\n");
        sb.Append("| target | mode | body | load | RPS | p50 | p90 | p99 | p99.9 | Δp50 | Δp99 | errors | CPU µs/req | max RSS | other load on gw core |\n");
        sb.Append("|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
        foreach (var key in data.PointKeys())
        {
            var (target, mode, body, kind) = key;
            double? M(string field) => Median(data.Runs.Select(r => data.Point(r, target, mode, body, kind)?[field]?.GetValue<double>()));
            double? D(string field) => target == "direct" ? null
                : Median(data.Runs.Select(r => Delta(data.Point(r, target, mode, body, kind), data.Point(r, "direct", mode, body, kind), field)));
            var sample = data.Points.First(p => Key(p) == key);
            var load = kind == "paced"
                ? $"{sample["conns"]} conns × {sample["delay_ms"]} ms"
                : $"c={sample["conns"]}";
            var errors = data.Runs.Sum(r => Errors(data.Point(r, target, mode, body, kind)));
            sb.Append(CultureInfo.InvariantCulture,
                $"| {target} | {mode} | {body} | {load} | {Fmt.Rps(M("rps"))} | {Fmt.Us(M("p50_us"))} | {Fmt.Us(M("p90_us"))} | {Fmt.Us(M("p99_us"))} | {Fmt.Us(M("p999_us"))} | {Fmt.Us(D("p50_us"), signed: true)} | {Fmt.Us(D("p99_us"), signed: true)} | {errors} | {Fmt.Num(M("cpu_us_per_req"), 1)} | {Fmt.Mib(M("rss_max_kib") / 1024)} | {Fmt.Num(M("gw_core_other_pct") is { } o ? Math.Min(o, 100) : null, 0)} % |\n");
        }

        if (data.Ttfb.Count > 0)
        {
            sb.Append("\n## Streaming through the paced upstream\n\n");
            sb.Append("Per stream: first event at once, then one every few ms. TTFB = first body byte; event = first complete SSE event; gaps = time between consecutive events; batched = events that arrived in the same read as the previous one.\n\n");
            sb.Append("| target | conns | streams | TTFB p50 | TTFB p99 | first event p50 | total p50 | gap p10 | gap p50 | gap p99 | events/stream | batched | failed |\n");
            sb.Append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
            foreach (var t in data.Ttfb)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"| {t["target"]}{(multi ? $" (run {t["run"]})" : "")} | {t["conns"]} | {t["ok"]} | {Fmt.Us(Nested(t, "ttfb_us", "p50"))} | {Fmt.Us(Nested(t, "ttfb_us", "p99"))} | {Fmt.Us(Nested(t, "first_event_us", "p50"))} | {Fmt.Us(Nested(t, "total_us", "p50"))} | {Fmt.Us(Nested(t, "gap_us", "p10"))} | {Fmt.Us(Nested(t, "gap_us", "p50"))} | {Fmt.Us(Nested(t, "gap_us", "p99"))} | {t["events_min"]}–{t["events_max"]} | {t["events_batched"]}/{t["events_total"]} | {t["failed"]} |\n");
            }
        }

        if (data.Memory.Count > 0)
        {
            sb.Append("\n## Memory (VmRSS)\n\n| target | run | idle | max under load | 5 s after load |\n|---|--:|--:|--:|--:|\n");
            foreach (var m in data.Memory)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"| {m["target"]} | {m["run"]} | {Fmt.Mib(Get(m, "idle_kib") / 1024)} | {Fmt.Mib(Get(m, "max_kib") / 1024)} | {Fmt.Mib(Get(m, "after_kib") / 1024)} |\n");
            }
        }

        if (data.Checks.Count > 0)
        {
            sb.Append("\n## Checks\n\n| run | target | check | ok | detail |\n|--:|---|---|---|---|\n");
            foreach (var c in data.Checks)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"| {c["run"]} | {c["target"]} | {c["check"]} | {(c["ok"]?.GetValue<bool>() == true ? "yes" : "**no**")} | {c["detail"]} |\n");
            }
        }

        sb.Append('\n');
        return sb.ToString();
    }

    /// <summary>JIT counts exist only for a .NET process with a perf map (not for the node peer).</summary>
    private static string Jit(JsonObject w, string field) =>
        (Get(w, "jit_methods") ?? 0) == 0 ? "—" : Fmt.Count(Get(w, field));

    internal static (string Target, string Mode, string Body, string Kind) Key(JsonObject p) =>
        (Str(p, "target"), Str(p, "mode"), Str(p, "body"), Str(p, "kind"));

    internal static string Str(JsonObject o, string name) => o[name]?.ToString() ?? "";

    internal static double? Get(JsonObject? o, string name) =>
        o?[name] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    internal static double? Nested(JsonObject? o, string name, string inner) =>
        o?[name] is JsonObject child ? Get(child, inner) : null;

    internal static double? Delta(JsonObject? a, JsonObject? b, string field) =>
        Get(a, field) is { } x && Get(b, field) is { } y ? x - y : null;

    internal static long Errors(JsonObject? p) =>
        p is null ? 0 : (long)(new[] { "err_connect", "err_read", "err_write", "err_status", "err_timeout" }.Sum(f => Get(p, f) ?? 0));

    internal static double? Median(IEnumerable<double?> values)
    {
        var list = values.Where(v => v.HasValue).Select(v => v!.Value).Order().ToList();
        if (list.Count == 0)
        {
            return null;
        }

        return list.Count % 2 == 1 ? list[list.Count / 2] : (list[list.Count / 2 - 1] + list[list.Count / 2]) / 2;
    }

    /// <summary>The raw records, indexed by run.</summary>
    internal sealed class Data(List<JsonObject> points, List<JsonObject> ttfb, List<JsonObject> memory, List<JsonObject> checks,
        List<JsonObject> variants, List<JsonObject> warmup)
    {
        public List<JsonObject> Warmup { get; } = warmup;

        /// <summary>The warm-up slices of one process (run + target), and how the warm-up ended.</summary>
        public (List<JsonObject> Slices, JsonObject? Done) WarmupOf(int run, string target) =>
            (Warmup.Where(w => (int)(Get(w, "run") ?? 1) == run && Str(w, "target") == target && w["phase"] is null).ToList(),
             Warmup.LastOrDefault(w => (int)(Get(w, "run") ?? 1) == run && Str(w, "target") == target && w["phase"] is not null));

        public List<JsonObject> Points { get; } = points;
        public List<JsonObject> Ttfb { get; } = ttfb;
        public List<JsonObject> Memory { get; } = memory;
        public List<JsonObject> Checks { get; } = checks;
        public List<JsonObject> Variants { get; } = variants;

        public List<int> Runs { get; } = points.Concat(ttfb).Concat(memory).Concat(checks)
            .Select(p => (int)(Get(p, "run") ?? 1)).Distinct().Order().ToList() is { Count: > 0 } runs ? runs : [1];

        public JsonObject? Point(int run, string target, string mode, string body, string kind) =>
            Points.LastOrDefault(p => (int)(Get(p, "run") ?? 1) == run && Key(p) == (target, mode, body, kind));

        public JsonObject? TtfbOf(int run, string target, int conns) =>
            Ttfb.LastOrDefault(p => (int)(Get(p, "run") ?? 1) == run && Str(p, "target") == target && (int)(Get(p, "conns") ?? 0) == conns);

        public JsonObject? MemoryOf(int run, string target) =>
            Memory.LastOrDefault(p => (int)(Get(p, "run") ?? 1) == run && Str(p, "target") == target);

        public IEnumerable<(string, string, string, string)> PointKeys() => Points.Select(Key).Distinct();

        public bool Has(string target) => Points.Any(p => Str(p, "target") == target);
    }
}

/// <summary>One figure: a value per run, its median, a target and the verdict.</summary>
internal sealed class Figure
{
    public required string Section { get; init; }
    public required string Name { get; init; }
    public required string Unit { get; init; }
    public required double?[] PerRun { get; init; }
    public string TargetText { get; init; } = "—";
    public Func<double, bool>? Check { get; init; }
    public string? Note { get; init; }
    public string? Unavailable { get; init; }

    public double? Median => Summary.Median(PerRun);
    public double? Min => PerRun.Where(v => v.HasValue).Select(v => v!.Value).DefaultIfEmpty(double.NaN).Min() is var m && !double.IsNaN(m) ? m : null;
    public double? Max => PerRun.Where(v => v.HasValue).Select(v => v!.Value).DefaultIfEmpty(double.NaN).Max() is var m && !double.IsNaN(m) ? m : null;

    public bool? Pass => Unavailable is not null || Check is null || Median is not { } v ? null : Check(v);

    public string Display() => Unavailable is not null ? Unavailable
        : Fmt.Value(Median, Unit) + (Note is null ? "" : $" ({Note})");

    public string Spread() => Unavailable is not null || Min is null ? "" : $"{Fmt.Value(Min, Unit)} – {Fmt.Value(Max, Unit)}";

    public string Result() => Unavailable is not null ? "n/a" : Pass switch
    {
        true => "PASS",
        false => "**FAIL**",
        null => Check is null ? "info" : "no data",
    };

    public JsonObject ToJson() => new()
    {
        ["section"] = Section,
        ["figure"] = Name,
        ["unit"] = Unit,
        ["median"] = Median,
        ["min"] = Min,
        ["max"] = Max,
        ["per_run"] = new JsonArray(PerRun.Select(v => (JsonNode?)v).ToArray()),
        ["target"] = TargetText,
        ["result"] = Result().Trim('*'),
        ["note"] = Unavailable ?? Note,
    };
}

/// <summary>Formatting of values for the tables.</summary>
internal static class Fmt
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Value(double? v, string unit) => unit switch
    {
        "rps" => Rps(v),
        "us" => Us(v),
        "+us" => Us(v, signed: true),
        "mib" => Mib(v),
        "+mib" => v is null ? "—" : (v >= 0 ? "+" : "") + Mib(v),
        "x" => v is null ? "—" : v.Value.ToString("0.00", Inv) + "×",
        "bool" => v is null ? "—" : v >= 0.5 ? "yes" : "no",
        "count" => v is null ? "—" : v.Value.ToString("N0", Inv),
        "s" => v is null ? "—" : v.Value.ToString("0", Inv) + " s",
        _ => Num(v, 1),
    };

    public static string Rps(double? v) => v is null ? "—" : v.Value.ToString("N0", Inv);

    public static string Count(double? v) => v is null ? "—" : v.Value.ToString("0", Inv);

    public static string Num(double? v, int decimals) => v is null ? "—" : v.Value.ToString("N" + decimals.ToString(Inv), Inv);

    public static string Mib(double? v) => v is null ? "—" : v.Value.ToString("0.0", Inv) + " MiB";

    public static string Us(double? v, bool signed = false)
    {
        if (v is null)
        {
            return "—";
        }

        var sign = signed && v >= 0 ? "+" : "";
        return Math.Abs(v.Value) >= 1000
            ? sign + (v.Value / 1000).ToString("0.00", Inv) + " ms"
            : sign + v.Value.ToString("0", Inv) + " µs";
    }
}
