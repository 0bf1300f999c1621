using System.Collections.Frozen;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Switchyard.Core.Caching.Semantic;

/// <summary>Vetoes a semantic hit when two similar-looking prompts differ in a detail that changes the answer.</summary>
/// <remarks>
/// Embeddings score "weather in Paris" and "weather in London" as near-identical, and a wrong cached answer is far worse
/// than a miss, so every candidate must also pass these rules (all symmetric; any failure rejects):
/// <list type="number">
/// <item><b>Numbers</b>: the multisets of numbers are equal. Digits anywhere count (15%, $45, #48213, 3.5, 1,000, the
/// parts of 2024-03-01, the 4 in gpt-4o), written numbers too (zero to twenty, the tens, hundred, thousand, million,
/// billion, combined: "twenty five" is 25). "15%" equals "15 percent".</item>
/// <item><b>Entities</b>: every entity of one prompt appears, as the same word sequence and ignoring case, in the other.
/// Entities are capitalised words not at a sentence start (the pronoun I excepted), ALL-CAPS tokens, words mixing
/// letters and digits (gpt-4o, x86), code-like words (camelCase, snake_case, node.js), double-quoted strings, code
/// spans in backticks, URLs and e-mail addresses. A possessive 's is ignored ("Germany's GDP" = "GDP of Germany").</item>
/// <item><b>Negation</b>: a negation (not, no, never, without, none, nothing, nobody, neither, nor, cannot, or any
/// n't form) in one prompt only rejects.</item>
/// <item><b>Direction</b>: where both prompts use the same direction word (from, to, into, than, vs, versus), the
/// words right after it (articles and possessives skipped) must share one, so "JSON to YAML" never answers "YAML to
/// JSON".</item>
/// </list>
/// The rules only reject: they never turn a low similarity into a hit.
/// </remarks>
public static partial class SemanticGuard
{
    private static readonly FrozenSet<string> s_negations = FrozenSet.Create(StringComparer.Ordinal,
    [
        "not", "no", "never", "without", "none", "nothing", "nobody", "neither", "nor", "cannot", "dont", "doesnt",
        "didnt", "cant", "wont", "isnt", "arent", "wasnt", "werent", "shouldnt", "wouldnt", "couldnt", "havent",
        "hasnt", "hadnt", "mustnt", "neednt", "aint", "shant",
    ]);

    private static readonly FrozenSet<string> s_directionWords = FrozenSet.Create(StringComparer.Ordinal,
        ["from", "to", "into", "than", "vs", "versus"]);

    private static readonly FrozenSet<string> s_determiners = FrozenSet.Create(StringComparer.Ordinal,
        ["a", "an", "the", "my", "your", "our", "their", "his", "her", "its", "this", "that", "these", "those", "some"]);

    private static readonly FrozenDictionary<string, int> s_numberWords = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["zero"] = 0, ["one"] = 1, ["two"] = 2, ["three"] = 3, ["four"] = 4, ["five"] = 5, ["six"] = 6, ["seven"] = 7,
        ["eight"] = 8, ["nine"] = 9, ["ten"] = 10, ["eleven"] = 11, ["twelve"] = 12, ["thirteen"] = 13, ["fourteen"] = 14,
        ["fifteen"] = 15, ["sixteen"] = 16, ["seventeen"] = 17, ["eighteen"] = 18, ["nineteen"] = 19, ["twenty"] = 20,
        ["thirty"] = 30, ["forty"] = 40, ["fifty"] = 50, ["sixty"] = 60, ["seventy"] = 70, ["eighty"] = 80, ["ninety"] = 90,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, long> s_scaleWords = new Dictionary<string, long>(StringComparer.Ordinal)
    {
        ["hundred"] = 100, ["thousand"] = 1_000, ["million"] = 1_000_000, ["billion"] = 1_000_000_000,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>True when nothing in the rules above tells <paramref name="a"/> and <paramref name="b"/> apart.</summary>
    public static bool Agrees(string a, string b) => Explain(a, b) is null;

    /// <summary>The first rule that tells the prompts apart ("numbers", "entity 'x'", "negation", "direction 'to'"), or null when they agree.</summary>
    public static string? Explain(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var left = Facts.Of(a);
        var right = Facts.Of(b);
        if (!left.Numbers.SequenceEqual(right.Numbers, StringComparer.Ordinal))
        {
            return "numbers";
        }

        if ((MissingEntity(left, right) ?? MissingEntity(right, left)) is { } entity)
        {
            return $"entity '{entity}'";
        }

        if (left.Negated != right.Negated)
        {
            return "negation";
        }

        foreach (var word in s_directionWords)
        {
            if (left.Following.TryGetValue(word, out var l) && right.Following.TryGetValue(word, out var r) && !l.Overlaps(r))
            {
                return $"direction '{word}'";
            }
        }

        return null;
    }

    private static string? MissingEntity(Facts from, Facts to)
    {
        foreach (var entity in from.Entities)
        {
            if (!ContainsRun(to.Words, entity))
            {
                return string.Join(' ', entity);
            }
        }

        return null;
    }

    private static bool ContainsRun(string[] words, string[] run)
    {
        for (var i = 0; i + run.Length <= words.Length; i++)
        {
            if (words.AsSpan(i, run.Length).SequenceEqual(run))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Lower-case words the way the hashed embedder splits them (apostrophes dropped, c#, node.js, gpt-4o kept whole).</summary>
    private static string[] Words(string text)
    {
        var buffer = text.Length * 3 + 2 <= 1024 ? stackalloc char[1024] : new char[text.Length * 3 + 2];
        var length = HashedNgramEmbedder.Normalise(text, buffer);
        return length == 0 ? [] : buffer[..length].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    private sealed class Facts
    {
        private Facts(string[] words, List<string> numbers, List<string[]> entities, bool negated, Dictionary<string, HashSet<string>> following)
        {
            Words = words;
            Numbers = numbers;
            Entities = entities;
            Negated = negated;
            Following = following;
        }

        public string[] Words { get; }

        /// <summary>Canonical numbers, sorted, so equal multisets compare equal as sequences.</summary>
        public List<string> Numbers { get; }

        public List<string[]> Entities { get; }

        public bool Negated { get; }

        public Dictionary<string, HashSet<string>> Following { get; }

        public static Facts Of(string text)
        {
            text = Possessive().Replace(CompatibilityFold.Fold(text), "");
            var words = Words(text);
            var entities = new List<string[]>();
            var rest = text;
            foreach (var regex in (ReadOnlySpan<Regex>)[Url(), Email(), CodeSpan(), Quoted()])
            {
                rest = regex.Replace(rest, match =>
                {
                    AddEntity(entities, match.Groups["v"].Value);
                    return " . "; // the span ends a sentence, so the word after it is judged as a sentence start
                });
            }

            AddTokenEntities(rest, entities);
            var numbers = new List<string>();
            foreach (Match match in Digits().Matches(text))
            {
                numbers.Add(CanonicalNumber(match.Value));
            }

            AddWrittenNumbers(words, numbers);
            numbers.Sort(StringComparer.Ordinal);
            var negated = false;
            var following = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            for (var i = 0; i < words.Length; i++)
            {
                negated |= s_negations.Contains(words[i]);
                if (s_directionWords.Contains(words[i]))
                {
                    var j = i + 1;
                    while (j < words.Length && s_determiners.Contains(words[j]))
                    {
                        j++;
                    }

                    if (j < words.Length)
                    {
                        if (!following.TryGetValue(words[i], out var set))
                        {
                            following[words[i]] = set = new HashSet<string>(StringComparer.Ordinal);
                        }

                        // A number after the word is compared in canonical form (999.50 = 999.5).
                        set.Add(char.IsDigit(words[j][0]) && Digits().Match(words[j]) is { Success: true } m && m.Length == words[j].Length
                            ? CanonicalNumber(words[j])
                            : words[j]);
                    }
                }
            }

            return new Facts(words, numbers, entities, negated, following);
        }

        private static void AddEntity(List<string[]> entities, string value)
        {
            var words = Words(value);
            if (words.Length > 0)
            {
                entities.Add(words);
            }
        }

        private static void AddTokenEntities(string text, List<string[]> entities)
        {
            foreach (var line in text.Split('\n'))
            {
                var sentenceStart = true; // a new line starts a sentence (lists, headings)
                foreach (var raw in line.Split((char[])[' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries))
                {
                    var opensQuote = raw[0] is '"' or '\'' or '(' or '[' or '¿' or '¡';
                    var token = raw.Trim(TrimChars);
                    if (token.Length > 0 && IsEntity(token, sentenceStart || opensQuote))
                    {
                        AddEntity(entities, token);
                    }

                    var end = raw.TrimEnd('"', '\'', ')', ']');
                    sentenceStart = end.Length == 0 || end[^1] is '.' or '!' or '?' or ':';
                }
            }
        }

        private static readonly char[] TrimChars = ['"', '\'', '(', ')', '[', ']', '{', '}', ',', '.', ';', ':', '!', '?', '¿', '¡', '*', '<', '>'];

        private static bool IsEntity(string token, bool atSentenceStart)
        {
            var letters = 0;
            var upper = 0;
            var digits = 0;
            var camel = false;
            var codeJoin = false;
            for (var i = 0; i < token.Length; i++)
            {
                var c = token[i];
                if (char.IsLetter(c))
                {
                    letters++;
                    if (char.IsUpper(c))
                    {
                        upper++;
                        camel |= i > 0 && char.IsLower(token[i - 1]);
                    }
                }
                else if (char.IsDigit(c))
                {
                    digits++;
                }
                else if (c is '.' or '_' && i > 0 && i < token.Length - 1 && char.IsLetter(token[i - 1]) && char.IsLetter(token[i + 1]))
                {
                    codeJoin = true;
                }
            }

            if (letters == 0)
            {
                return false; // plain numbers are the number rule's business
            }

            if (digits > 0 || camel || codeJoin)
            {
                return true;
            }

            if (upper == letters && letters >= 2)
            {
                return true; // TCP, GDP, II
            }

            if (!char.IsUpper(token[0]) || atSentenceStart)
            {
                return false;
            }

            // The pronoun and its contractions are capitalised anywhere.
            return token is not ("I" or "I'm" or "I've" or "I'd" or "I'll" or "I’m" or "I’ve" or "I’d" or "I’ll");
        }

        private static string CanonicalNumber(string value)
        {
            if (ThousandsGrouped().IsMatch(value))
            {
                value = value.Replace(",", "", StringComparison.Ordinal);
            }
            else
            {
                value = value.Replace(',', '.');
            }

            var dot = value.IndexOf('.');
            if (dot >= 0 && value.IndexOf('.', dot + 1) >= 0)
            {
                return value; // a version or an address (1.2.3, 10.0.0.1): compare as written
            }

            var whole = dot < 0 ? value : value[..dot];
            var fraction = dot < 0 ? "" : value[(dot + 1)..].TrimEnd('0');
            whole = whole.TrimStart('0');
            if (whole.Length == 0)
            {
                whole = "0";
            }

            return fraction.Length == 0 ? whole : whole + "." + fraction;
        }

        private static void AddWrittenNumbers(string[] words, List<string> numbers)
        {
            long total = 0;
            long current = 0;
            var inNumber = false;
            foreach (var word in words)
            {
                if (s_numberWords.TryGetValue(word, out var unit))
                {
                    current += unit;
                    inNumber = true;
                }
                else if (s_scaleWords.TryGetValue(word, out var scale))
                {
                    if (scale == 100)
                    {
                        current = (current == 0 ? 1 : current) * 100;
                    }
                    else
                    {
                        total += (current == 0 ? 1 : current) * scale;
                        current = 0;
                    }

                    inNumber = true;
                }
                else if (inNumber)
                {
                    numbers.Add((total + current).ToString(CultureInfo.InvariantCulture));
                    total = current = 0;
                    inNumber = false;
                }
            }

            if (inNumber)
            {
                numbers.Add((total + current).ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    [GeneratedRegex(@"(?<v>(?:https?://|www\.)[^\s""'<>`]*[^\s""'<>`.,;:!?)\]])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Url();

    [GeneratedRegex(@"(?<v>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)", RegexOptions.CultureInvariant)]
    private static partial Regex Email();

    [GeneratedRegex(@"`+(?<v>[^`]+)`+", RegexOptions.CultureInvariant)]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"""(?<v>[^""]+)""", RegexOptions.CultureInvariant)]
    private static partial Regex Quoted();

    [GeneratedRegex(@"(?<=\p{L})['’]s\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Possessive();

    [GeneratedRegex(@"\d+(?:[.,]\d+)*", RegexOptions.CultureInvariant)]
    private static partial Regex Digits();

    [GeneratedRegex(@"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex ThousandsGrouped();
}
