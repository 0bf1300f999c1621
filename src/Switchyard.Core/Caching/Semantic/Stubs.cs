// TEMPORARY stub until the i5-semantic branch merges.
using System.Text.Json.Nodes;
namespace Switchyard.Core.Caching.Semantic;
public interface IEmbedder { string Name { get; } int Dimensions { get; } double DefaultThreshold { get; } ValueTask<float[]> EmbedAsync(string text, CancellationToken ct); }
public sealed class HashedNgramEmbedder : IEmbedder
{
    public string Name => "hashed"; public int Dimensions => 8; public double DefaultThreshold => 0.9;
    public ValueTask<float[]> EmbedAsync(string text, CancellationToken ct) => ValueTask.FromResult(new float[8]);
}
public sealed record SemanticQuery(string ContextJson, string Text) { public static SemanticQuery? TryCreate(JsonObject body) => null; }
public sealed record VectorEntry(float[] Vector, string Text, string EntryKey, DateTimeOffset ExpiresAt)
{
    public byte[] ToBytes() => []; public static VectorEntry? FromBytes(byte[] b) => null;
}
public sealed record VectorMatch(VectorEntry Entry, double Similarity);
public sealed class VectorIndex(int max)
{
    public int Max => max;
    public void Add(string bucket, VectorEntry e) { }
    public VectorMatch? FindBest(string bucket, ReadOnlySpan<float> q, double threshold, string text, DateTimeOffset now) => null;
}
