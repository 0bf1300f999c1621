namespace Switchyard.Core.Caching.Semantic;

/// <summary>Turns a prompt into an L2-normalised vector, so the semantic cache can compare prompts by dot product.</summary>
public interface IEmbedder
{
    /// <summary>Identifies the model and its settings; vectors from embedders with different names are never compared.</summary>
    string Name { get; }

    /// <summary>Length of every vector this embedder returns.</summary>
    int Dimensions { get; }

    /// <summary>The cosine similarity at or above which two prompts count as the same question, calibrated for this embedder.</summary>
    double DefaultThreshold { get; }

    /// <summary>The L2-normalised embedding of <paramref name="text"/> (all zeros when the text has no content).</summary>
    ValueTask<float[]> EmbedAsync(string text, CancellationToken ct);
}
