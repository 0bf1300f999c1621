namespace Switchyard.Core.Configs;

/// <summary>Finds the known config key a misspelt one was probably meant to be (<c>overide_params</c> → <c>override_params</c>).</summary>
internal static class KeySpelling
{
    /// <summary>The closest candidate within a small edit distance, or null when none is close enough to be a likely typo.</summary>
    public static string? Closest(string key, IEnumerable<string> candidates)
    {
        // Short keys tolerate one edit; longer ones two. Beyond that a suggestion is more often wrong than helpful.
        var limit = key.Length <= 4 ? 1 : 2;
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            if (Math.Abs(candidate.Length - key.Length) > limit)
            {
                continue;
            }
            var d = Distance(key, candidate);
            if (d <= limit && (d < bestDistance || d == bestDistance && string.CompareOrdinal(candidate, best) < 0))
            {
                best = candidate;
                bestDistance = d;
            }
        }
        return best;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost 1.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
