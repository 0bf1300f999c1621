using System.Text.Json;
using Switchyard.Core.Caching.Semantic;
using Switchyard.Tests.Infrastructure;

namespace Switchyard.Tests.Caching.Semantic;

/// <summary>The hand-written labelled question pairs (semantic-pairs.json for calibration, semantic-pairs-heldout.json for checking) and how an embedder plus the guard score on them.</summary>
internal static class LabelledPairs
{
    public sealed record Pair(string Label, string Kind, string A, string B)
    {
        public bool Same => Label == "same";
    }

    public sealed record Scored(Pair Pair, double Similarity, bool GuardAgrees);

    public sealed record Score(double Threshold, int TruePositives, int FalsePositives, int FalseNegatives)
    {
        public double Precision => TruePositives + FalsePositives == 0 ? 1 : (double)TruePositives / (TruePositives + FalsePositives);

        public double Recall => TruePositives + FalseNegatives == 0 ? 0 : (double)TruePositives / (TruePositives + FalseNegatives);
    }

    private static readonly Lazy<IReadOnlyList<Pair>> s_pairs = new(() => Load("semantic-pairs.json"));

    private static readonly Lazy<IReadOnlyList<Pair>> s_heldOut = new(() => Load("semantic-pairs-heldout.json"));

    /// <summary>The set thresholds are calibrated on.</summary>
    public static IReadOnlyList<Pair> All => s_pairs.Value;

    /// <summary>Pairs written before the v2 embedder and never used to tune it, so precision on them is an honest estimate.</summary>
    public static IReadOnlyList<Pair> HeldOut => s_heldOut.Value;

    private static IReadOnlyList<Pair> Load(string file)
    {
        var path = Path.Combine(RepoPaths.Root, "tests", "Switchyard.Tests", "Caching", "Semantic", file);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return doc.RootElement.EnumerateArray()
            .Select(e => new Pair(e.GetProperty("label").GetString()!, e.GetProperty("kind").GetString()!, e.GetProperty("a").GetString()!, e.GetProperty("b").GetString()!))
            .ToArray();
    }

    /// <summary>Cosine similarity of each pair under <paramref name="embedder"/> and the guard's verdict.</summary>
    public static async Task<IReadOnlyList<Scored>> ScoreAsync(IEmbedder embedder, IReadOnlyList<Pair> pairs)
    {
        var result = new List<Scored>(pairs.Count);
        foreach (var pair in pairs)
        {
            var a = await embedder.EmbedAsync(pair.A, CancellationToken.None);
            var b = await embedder.EmbedAsync(pair.B, CancellationToken.None);
            result.Add(new Scored(pair, System.Numerics.Tensors.TensorPrimitives.Dot(a, b), SemanticGuard.Agrees(pair.B, pair.A)));
        }

        return result;
    }

    /// <summary>The protocol of the issue, run for real: index A alone in a bucket, query with B, a hit is FindBest returning A.</summary>
    public static async Task<Score> EvaluateThroughIndexAsync(IEmbedder embedder, IReadOnlyList<Pair> pairs, double threshold)
    {
        int tp = 0, fp = 0, fn = 0;
        var now = DateTimeOffset.UtcNow;
        foreach (var pair in pairs)
        {
            var index = new VectorIndex(maxEntries: 4);
            index.Add("ctx", new VectorEntry(await embedder.EmbedAsync(pair.A, CancellationToken.None), pair.A, "key-a", now.AddHours(1)));
            var query = await embedder.EmbedAsync(pair.B, CancellationToken.None);
            var hit = index.FindBest("ctx", query, threshold, pair.B, now)?.Entry.EntryKey == "key-a";
            (tp, fp, fn) = (hit, pair.Same) switch
            {
                (true, true) => (tp + 1, fp, fn),
                (true, false) => (tp, fp + 1, fn),
                (false, true) => (tp, fp, fn + 1),
                _ => (tp, fp, fn),
            };
        }

        return new Score(threshold, tp, fp, fn);
    }

    /// <summary>P/R at <paramref name="threshold"/> from precomputed scores, with or without the guard.</summary>
    public static Score At(IReadOnlyList<Scored> scored, double threshold, bool withGuard)
    {
        int tp = 0, fp = 0, fn = 0;
        foreach (var s in scored)
        {
            var hit = s.Similarity >= threshold && (!withGuard || s.GuardAgrees);
            if (hit && s.Pair.Same)
            {
                tp++;
            }
            else if (hit)
            {
                fp++;
            }
            else if (s.Pair.Same)
            {
                fn++;
            }
        }

        return new Score(threshold, tp, fp, fn);
    }

    /// <summary>A small table of P/R at several thresholds, embedder alone and with the guard.</summary>
    public static string Table(string title, IReadOnlyList<Scored> scored, IEnumerable<double> thresholds)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine(title);
        text.AppendLine("threshold | embedder alone P / R (FP) | with guard P / R (FP)");
        foreach (var t in thresholds)
        {
            var alone = At(scored, t, withGuard: false);
            var guarded = At(scored, t, withGuard: true);
            text.AppendLine(System.FormattableString.Invariant(
                $"{t,9:0.00} | {alone.Precision,6:0.000} / {alone.Recall,5:0.000} ({alone.FalsePositives,3}) | {guarded.Precision,6:0.000} / {guarded.Recall,5:0.000} ({guarded.FalsePositives,3})"));
        }

        return text.ToString();
    }
}
