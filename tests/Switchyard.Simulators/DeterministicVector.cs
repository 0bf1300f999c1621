using System.Text;

namespace Switchyard.Simulators;

/// <summary>Unit-length pseudo-embeddings seeded from the input text, so equal inputs always map to equal vectors.</summary>
internal static class DeterministicVector
{
    public static float[] For(string text, int dimensions)
    {
        var state = Fnv1a(text);
        var values = new double[dimensions];
        double sumSquares = 0;
        for (var i = 0; i < dimensions; i++)
        {
            // SplitMix64 step: cheap, well-mixed, and identical on every platform.
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            values[i] = ((z >> 11) * (1.0 / (1UL << 53)) * 2.0) - 1.0;
            sumSquares += values[i] * values[i];
        }

        var norm = sumSquares > 0 ? Math.Sqrt(sumSquares) : 1;
        var result = new float[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            result[i] = (float)(values[i] / norm);
        }

        return result;
    }

    /// <summary>A stable 64-bit hash (string.GetHashCode is randomised per process).</summary>
    public static ulong Fnv1a(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}
