using System.Collections.Frozen;

namespace Switchyard.Core.Caching.Semantic;

/// <summary>How the hashed embedder reads one normalised word: contractions spelled out, a light stem, a common synonym folded, and how much the word says.</summary>
/// <remarks>
/// Paraphrases that real users write differ mostly in the words that carry no question ("what's" / "what is", "can you
/// tell me", "please"), in inflection ("laptop's battery" / "laptop batteries") and in a few everyday synonyms, so those
/// are folded before hashing. Everything here works on the apostrophe-free words of
/// <see cref="HashedNgramEmbedder.Normalise"/>, the same words <see cref="SemanticGuard"/> reads, so "don't" is a
/// negation for both. Lookups go through span-keyed frozen tables and allocate nothing.
/// </remarks>
internal static class WordForms
{
    /// <summary>The longest word that is stemmed; longer tokens (hashes, identifiers) are hashed as written.</summary>
    public const int MaxStemmed = 48;

    private static readonly FrozenDictionary<string, string> s_contractions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["whats"] = "what is", ["wheres"] = "where is", ["hows"] = "how is", ["whos"] = "who is", ["whens"] = "when is",
        ["whys"] = "why is", ["thats"] = "that is", ["theres"] = "there is", ["heres"] = "here is", ["whatre"] = "what are",
        ["im"] = "i am", ["ive"] = "i have", ["youre"] = "you are", ["youve"] = "you have", ["theyre"] = "they are",
        ["weve"] = "we have", ["dont"] = "do not", ["doesnt"] = "does not", ["didnt"] = "did not", ["cant"] = "can not",
        ["cannot"] = "can not", ["wont"] = "will not", ["isnt"] = "is not", ["arent"] = "are not", ["wasnt"] = "was not",
        ["werent"] = "were not", ["shouldnt"] = "should not", ["wouldnt"] = "would not", ["couldnt"] = "could not",
        ["havent"] = "have not", ["hasnt"] = "has not", ["hadnt"] = "had not", ["mustnt"] = "must not",
        ["neednt"] = "need not", ["aint"] = "is not", ["shant"] = "shall not",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> s_contractionLookup =
        s_contractions.GetAlternateLookup<ReadOnlySpan<char>>();

    // Words that shape a question but do not say what it is about.
    private static readonly FrozenSet<string> s_functionWords = FrozenSet.Create(StringComparer.Ordinal,
    [
        "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "i", "me", "my",
        "you", "your", "we", "our", "us", "it", "its", "this", "that", "these", "those", "to", "of", "in", "on", "at",
        "for", "with", "by", "as", "and", "or", "so", "can", "could", "would", "should", "will", "shall", "have", "has",
        "had", "just", "some", "any", "there", "here", "id", "they", "how", "what", "which", "into", "from", "using", "percent",
    ]);

    // Politeness and request framing: "please", "can you tell me", "i want to know", "i'd like to".
    private static readonly FrozenSet<string> s_fillerWords = FrozenSet.Create(StringComparer.Ordinal,
    [
        "please", "tell", "know", "want", "like", "wondering", "kindly", "help", "explain", "give", "possible", "hi",
        "hello", "hey", "thanks", "thank",
    ]);

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> s_functionLookup =
        s_functionWords.GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> s_fillerLookup =
        s_fillerWords.GetAlternateLookup<ReadOnlySpan<char>>();

    // Everyday synonyms folded to one spelling; keys and values are stemmed when the table is built, so inflected
    // forms fold too. Kept small: a wrong entry turns a near-miss into a false hit that the guard cannot see.
    private static readonly FrozenDictionary<string, string> s_synonyms = BuildSynonyms(new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["repair"] = "fix", ["begin"] = "start", ["large"] = "big", ["huge"] = "big", ["automobile"] = "car",
        ["quickly"] = "fast", ["rapid"] = "fast", ["purchase"] = "buy", ["photo"] = "picture", ["pic"] = "picture",
        ["modify"] = "change", ["alter"] = "change", ["update"] = "change",
        ["dict"] = "dictionary", ["int"] = "integer", ["app"] = "application", ["info"] = "information",
        ["repo"] = "repository", ["config"] = "configuration", ["db"] = "database", ["doc"] = "document",
        ["zero"] = "0", ["one"] = "1", ["two"] = "2", ["three"] = "3", ["four"] = "4", ["five"] = "5", ["six"] = "6",
        ["seven"] = "7", ["eight"] = "8", ["nine"] = "9", ["ten"] = "10", ["eleven"] = "11", ["twelve"] = "12",
        ["twenty"] = "20", ["hundred"] = "100", ["thousand"] = "1000",
    });

    private static readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> s_synonymLookup =
        s_synonyms.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The spelled-out form of a contraction ("whats" gives "what is"), or null when the word is none.</summary>
    public static string? Expand(ReadOnlySpan<char> word) => s_contractionLookup.TryGetValue(word, out var expanded) ? expanded : null;

    /// <summary>Whether the word is question framing (function word) rather than content.</summary>
    public static bool IsFunctionWord(ReadOnlySpan<char> word) => s_functionLookup.Contains(word);

    /// <summary>Whether the word is politeness or request framing.</summary>
    public static bool IsFiller(ReadOnlySpan<char> word) => s_fillerLookup.Contains(word);

    /// <summary>Writes the canonical form of <paramref name="word"/> (stemmed, synonym folded) to <paramref name="destination"/> and returns its length.</summary>
    public static int Canonical(ReadOnlySpan<char> word, Span<char> destination)
    {
        if (word.Length > MaxStemmed || word.Length > destination.Length)
        {
            word.CopyTo(destination);
            return word.Length;
        }

        var length = Stem(word, destination);
        if (s_synonymLookup.TryGetValue(destination[..length], out var canonical))
        {
            canonical.CopyTo(destination);
            length = canonical.Length;
        }

        return length;
    }

    /// <summary>A light English suffix stripper (plural, possessive, -ing, -ed, -ly, final e) so inflections share one form.</summary>
    /// <remarks>Not Porter: it only has to map the forms people swap in paraphrases onto each other, and it must never merge
    /// short words, so nothing shorter than four letters is touched and a stem keeps at least three.</remarks>
    internal static int Stem(ReadOnlySpan<char> word, Span<char> destination)
    {
        word.CopyTo(destination);
        var n = word.Length;
        if (n < 4 || !IsAsciiLetters(word))
        {
            return n;
        }

        var s = destination;
        if (s[n - 1] == 's')
        {
            if (EndsWith(s, n, "ies") && n > 4)
            {
                n -= 2;
                s[n - 1] = 'y'; // batteries -> battery
            }
            else if (EndsWith(s, n, "sses") || EndsWith(s, n, "shes") || EndsWith(s, n, "ches") || EndsWith(s, n, "xes") || EndsWith(s, n, "zes"))
            {
                n -= 2; // classes, dishes, matches, boxes
            }
            else if (s[n - 2] is not ('s' or 'u' or 'i'))
            {
                n -= 1; // laptops, laptop's (the apostrophe is already gone); keeps status, analysis, class
            }
        }

        if (n >= 6 && EndsWith(s, n, "ing") && HasVowel(s[..(n - 3)]))
        {
            n = Undouble(s, n - 3);
        }
        else if (n >= 5 && EndsWith(s, n, "ied"))
        {
            n -= 2;
            s[n - 1] = 'y';
        }
        else if (n >= 5 && EndsWith(s, n, "ed") && s[n - 3] != 'e' && HasVowel(s[..(n - 2)]))
        {
            n = Undouble(s, n - 2);
        }
        else if (n >= 6 && EndsWith(s, n, "ly"))
        {
            n -= 2;
        }

        if (n >= 4 && s[n - 1] == 'e')
        {
            n--; // make / making, change / changed
        }

        return n;
    }

    private static int Undouble(Span<char> s, int n) =>
        n >= 4 && s[n - 1] == s[n - 2] && s[n - 1] is not ('l' or 's' or 'z' or 'e' or 'o') ? n - 1 : n;

    private static bool EndsWith(Span<char> s, int n, string suffix) => n > suffix.Length && s[..n].EndsWith(suffix, StringComparison.Ordinal);

    private static bool HasVowel(Span<char> stem) => stem.IndexOfAny("aeiouy") >= 0;

    private static bool IsAsciiLetters(ReadOnlySpan<char> word)
    {
        foreach (var c in word)
        {
            if (!char.IsAsciiLetterLower(c))
            {
                return false;
            }
        }

        return true;
    }

    private static FrozenDictionary<string, string> BuildSynonyms(Dictionary<string, string> table)
    {
        Span<char> key = stackalloc char[MaxStemmed];
        Span<char> value = stackalloc char[MaxStemmed];
        var stemmed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (from, to) in table)
        {
            stemmed[key[..Stem(from, key)].ToString()] = value[..Stem(to, value)].ToString();
        }

        return stemmed.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
