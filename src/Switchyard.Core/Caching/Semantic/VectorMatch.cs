namespace Switchyard.Core.Caching.Semantic;

/// <summary>The entry a semantic lookup chose and its cosine similarity to the query.</summary>
public sealed record VectorMatch(VectorEntry Entry, double Similarity);
