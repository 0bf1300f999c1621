namespace Switchyard.Simulators;

/// <summary>Word-level text helpers standing in for a tokenizer.</summary>
internal static class TextPieces
{
    public static int CountWords(string text)
    {
        var count = 0;
        var inWord = false;
        foreach (var c in text)
        {
            var isSpace = char.IsWhiteSpace(c);
            if (!isSpace && !inWord)
            {
                count++;
            }

            inWord = !isSpace;
        }

        return count;
    }

    /// <summary>
    /// Cuts text before every <paramref name="wordsPerPiece"/>-th word so each piece carries its leading
    /// whitespace, the way model tokens do; the pieces concatenate back to exactly <paramref name="text"/>.
    /// </summary>
    public static List<string> SplitByWords(string text, int wordsPerPiece)
    {
        var pieces = new List<string>();
        var start = 0;
        var words = 0;
        var inWord = false;
        for (var i = 0; i < text.Length; i++)
        {
            var isSpace = char.IsWhiteSpace(text[i]);
            if (!isSpace && !inWord)
            {
                if (words > 0 && words % wordsPerPiece == 0)
                {
                    // Cut where the whitespace before this word begins, so the space travels with the word.
                    var cut = i;
                    while (cut > start && char.IsWhiteSpace(text[cut - 1]))
                    {
                        cut--;
                    }

                    pieces.Add(text[start..cut]);
                    start = cut;
                }

                words++;
            }

            inWord = !isSpace;
        }

        if (start < text.Length || pieces.Count == 0)
        {
            pieces.Add(text[start..]);
        }

        return pieces;
    }

    /// <summary>Fixed-size character slices, used to spread tool-call arguments over several chunks.</summary>
    public static List<string> SplitByChars(string text, int size)
    {
        var pieces = new List<string>();
        for (var i = 0; i < text.Length; i += size)
        {
            pieces.Add(text.Substring(i, Math.Min(size, text.Length - i)));
        }

        return pieces;
    }
}
