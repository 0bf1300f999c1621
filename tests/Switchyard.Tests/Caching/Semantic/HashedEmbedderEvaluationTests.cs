using Switchyard.Core.Caching.Semantic;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Caching.Semantic;

/// <summary>Precision and recall of the offline hashed embedder plus the guard on the labelled pair set.</summary>
public sealed class HashedEmbedderEvaluationTests(ITestOutputHelper output)
{
    [Fact]
    public void The_labelled_set_is_big_enough_and_mostly_hard_near_misses()
    {
        var pairs = LabelledPairs.All;
        Assert.True(pairs.Count >= 200, $"{pairs.Count} pairs");
        var different = pairs.Count(p => !p.Same);
        Assert.True(different >= 0.4 * pairs.Count, $"{different} of {pairs.Count} are 'different'");
        Assert.All(pairs, p => Assert.Contains(p.Label, new[] { "same", "different" }));
        Assert.Equal(pairs.Count, pairs.Select(p => (p.A, p.B)).Distinct().Count());
    }

    [Fact]
    public async Task Precision_at_the_default_threshold_is_at_least_095()
    {
        var embedder = new HashedNgramEmbedder();
        var score = await LabelledPairs.EvaluateThroughIndexAsync(embedder, LabelledPairs.All, embedder.DefaultThreshold);
        var scored = await LabelledPairs.ScoreAsync(embedder, LabelledPairs.All);
        output.WriteLine(LabelledPairs.Table($"{embedder.Name}, {LabelledPairs.All.Count} pairs", scored, [0.5, 0.6, 0.7, 0.75, 0.8, 0.82, 0.84, 0.85, 0.86, 0.87, 0.88, 0.9, 0.95]));
        output.WriteLine(System.FormattableString.Invariant(
            $"default threshold {embedder.DefaultThreshold:0.00}: precision {score.Precision:0.000}, recall {score.Recall:0.000} (TP {score.TruePositives}, FP {score.FalsePositives}, FN {score.FalseNegatives})"));
        foreach (var s in scored.Where(s => !s.Pair.Same && s.GuardAgrees && s.Similarity >= embedder.DefaultThreshold))
        {
            output.WriteLine(System.FormattableString.Invariant($"false hit {s.Similarity:0.000} [{s.Pair.Kind}] {s.Pair.A} | {s.Pair.B}"));
        }

        Assert.True(score.Precision >= 0.95, $"precision {score.Precision:0.000}");
        Assert.True(score.TruePositives > 0, "the embedder must hit some paraphrases, or precision means nothing");
    }
}
