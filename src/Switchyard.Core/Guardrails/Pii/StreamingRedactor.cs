using System.Text;
using System.Text.RegularExpressions;

namespace Switchyard.Core.Guardrails.Pii;

/// <summary>Redacts a streamed text chunk by chunk, giving the same result as redacting the whole text at once.</summary>
/// <remarks>
/// <para><see cref="Push"/> returns the text that can no longer change: it holds back a short tail that could still
/// be (part of) a finding. The tail is the last word, plus the words before it while they could be groups of one
/// finding (a phone number, card, IBAN or ID written in groups separated by single spaces: short words of digits,
/// capitals and <c>()+.-</c>). It is bounded by <c>maxHold</c> (128 characters by default); when a longer run would be
/// needed it is cut at the bound, never through a finding already seen.</para>
/// <para>The property: for findings no longer than <c>maxHold</c>, the concatenation of every <see cref="Push"/> and
/// <see cref="Flush"/> equals <see cref="PiiDetector.Redact(string)"/> of the concatenated input, however the input
/// is split. Each scan starts where the emitted text ends but still sees the last 64 emitted characters, so
/// look-behinds (<c>Bearer …</c>) work across chunk borders.</para>
/// <para>Secrets are longer than the bound (a JWT or project API key is 150+ characters) and must not leak, so they are
/// handled apart: a word that begins like a secret (<c>eyJ</c>, <c>sk-</c>, <c>ghp_</c>, <c>Bearer …</c>) may be held
/// up to 8192 characters; once it matches, <c>[SECRET]</c> is emitted at once and the rest of the token is dropped as
/// it arrives. A PEM private key is dropped up to its END line.</para>
/// </remarks>
public sealed partial class StreamingRedactor
{
    public const int DefaultMaxHold = 128;
    private const int ContextLength = 64;
    private const int SecretHold = 8192;

    private readonly PiiDetector _detector;
    private readonly int _maxHold;
    private readonly StringBuilder _pending = new();
    private readonly Dictionary<PiiCategory, int> _counts = [];
    private string _context = "";
    private Func<char, bool>? _suppressToken;
    private Func<char, bool>? _suppressInner;
    private string? _suppressHeld;
    private string? _pemTail;

    public StreamingRedactor(PiiDetector? detector = null, int maxHold = DefaultMaxHold)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHold, 16);
        _detector = detector ?? PiiDetector.AllCategories;
        _maxHold = maxHold;
    }

    /// <summary>How many characters are held back right now.</summary>
    public int HeldLength => _pending.Length;

    /// <summary>Findings redacted so far, by category.</summary>
    public IReadOnlyDictionary<PiiCategory, int> Counts => _counts;

    /// <summary>Adds a chunk; returns the redacted text that is safe to emit now (possibly empty).</summary>
    public string Push(string delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        var output = new StringBuilder();
        var input = delta;
        if (IsSuppressing)
        {
            input = ConsumeSuppressed(input);
            if (IsSuppressing) return "";
        }
        _pending.Append(input);
        Process(output, final: false);
        return output.ToString();
    }

    /// <summary>Ends the stream: returns the redacted remainder.</summary>
    public string Flush()
    {
        if (IsSuppressing)
        {
            // A dot held after a token was the sentence's period after all.
            var held = _suppressHeld ?? "";
            _suppressToken = null;
            _suppressInner = null;
            _suppressHeld = null;
            _pemTail = null;
            _pending.Clear();
            if (held.Length == 0) return "";
            _pending.Append(held);
        }
        var output = new StringBuilder();
        Process(output, final: true);
        return output.ToString();
    }

    private bool IsSuppressing => _suppressToken is not null || _pemTail is not null;

    private void Process(StringBuilder output, bool final)
    {
        var buffer = _context + _pending.ToString();
        var c = _context.Length;
        var length = buffer.Length;
        if (length == c) return;
        var raw = _detector.Scan(buffer, c);

        if (!final && TryStartSuppression(buffer, c, raw, output)) return;

        int h;
        if (final)
        {
            h = length;
        }
        else
        {
            h = HoldStart(buffer, c);
            h = MoveBeforeSpanning(raw, h, c);
            var limit = EndsLikeSecret(buffer, c) ? SecretHold : _maxHold;
            if (length - h > limit) h = Math.Max(h, ForcedCut(raw, length - limit, c, length));
        }
        if (h <= c) return;
        var findings = PiiDetector.Resolve(raw, c, h);
        foreach (var f in findings) _counts[f.Category] = _counts.GetValueOrDefault(f.Category) + 1;
        output.Append(PiiDetector.Apply(buffer, c, h, findings));
        _context = Tail(buffer, h);
        _pending.Remove(0, h - c);
    }

    /// <summary>A secret that runs to the end of what has arrived: emit up to it plus one placeholder, then drop its remainder.</summary>
    private bool TryStartSuppression(string buffer, int c, List<RawMatch> raw, StringBuilder output)
    {
        var length = buffer.Length;
        foreach (var r in raw.Where(r => r.Valid && r.End == length && (r.Pattern.TokenChars is not null || r.Pattern.IsPem)).OrderBy(r => r.Start))
        {
            // Another match straddling its start would make the outcome depend on overlap resolution: let the normal path decide.
            if (raw.Any(o => o.Start < r.Start && o.End > r.Start)) continue;
            var before = PiiDetector.Resolve(raw, c, r.Start);
            foreach (var f in before) _counts[f.Category] = _counts.GetValueOrDefault(f.Category) + 1;
            _counts[r.Pattern.Category] = _counts.GetValueOrDefault(r.Pattern.Category) + 1;
            output.Append(PiiDetector.Apply(buffer, c, r.Start, before));
            output.Append(r.Pattern.Category.Placeholder());
            if (r.Pattern.IsPem)
            {
                var block = buffer[r.Start..length];
                if (!PemEnd().IsMatch(block))
                {
                    var header = PemHeader().Match(block);
                    _pemTail = block[(header.Index + header.Length)..];
                }
            }
            else
            {
                _suppressToken = r.Pattern.TokenChars;
                _suppressInner = r.Pattern.InnerChars;
            }
            _context = Tail(buffer, length);
            _pending.Clear();
            return true;
        }
        return false;
    }

    /// <summary>Drops the rest of a redacted secret; returns what follows it once it has ended.</summary>
    private string ConsumeSuppressed(string input)
    {
        if (_suppressToken is { } isToken)
        {
            var text = (_suppressHeld ?? "") + input;
            _suppressHeld = null;
            var i = 0;
            while (i < text.Length)
            {
                if (isToken(text[i]))
                {
                    i++;
                    continue;
                }
                if (_suppressInner is { } isInner && isInner(text[i]))
                {
                    if (i + 1 == text.Length)
                    {
                        // Whether this dot joins another segment or ends a sentence depends on the next chunk.
                        _suppressHeld = text[i..];
                        _context = Tail(_context + text[..i], (_context + text[..i]).Length);
                        return "";
                    }
                    if (isToken(text[i + 1]))
                    {
                        i += 2;
                        continue;
                    }
                }
                break;
            }
            _context = Tail(_context + text[..i], (_context + text[..i]).Length);
            if (i == text.Length) return "";
            _suppressToken = null;
            _suppressInner = null;
            return text[i..];
        }
        var tail = _pemTail + input;
        var end = PemEnd().Match(tail);
        if (!end.Success)
        {
            _pemTail = tail.Length > ContextLength ? tail[^ContextLength..] : tail;
            _context = _pemTail;
            return "";
        }
        _pemTail = null;
        _context = Tail(tail, end.Index + end.Length);
        return tail[(end.Index + end.Length)..];
    }

    /// <summary>Where the held tail starts: the last word, extended back over single-space-separated "group" words.</summary>
    private int HoldStart(string b, int c)
    {
        var length = b.Length;
        var h = length;
        while (h > c && !char.IsWhiteSpace(b[h - 1])) h--;
        if (length - h > _maxHold) return h;
        while (true)
        {
            if (h - 2 < c || b[h - 1] != ' ' || char.IsWhiteSpace(b[h - 2])) break;
            bool next;
            if (h == length)
            {
                next = true; // the next word has not started yet
            }
            else
            {
                var end = h;
                while (end < length && !char.IsWhiteSpace(b[end])) end++;
                var word = b.AsSpan(h, end - h);
                next = end == length ? IsGroupWord(word) : IsGroupWord(GroupPrefix(word));
            }
            if (!next) break;
            var start = h - 1;
            while (start > c && !char.IsWhiteSpace(b[start - 1])) start--;
            if (!IsGroupWord(GroupSuffix(b.AsSpan(start, h - 1 - start)))) break;
            if (length - start > _maxHold) break;
            h = start;
        }
        return h;
    }

    private static int MoveBeforeSpanning(List<RawMatch> raw, int h, int c)
    {
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var r in raw)
            {
                if (r.Start < h && r.End > h)
                {
                    h = r.Start;
                    changed = true;
                }
            }
        }
        return Math.Max(h, c);
    }

    /// <summary>A cut near <paramref name="at"/> that keeps complete findings whole (moving past them) and short matches whole (moving before them).</summary>
    private int ForcedCut(List<RawMatch> raw, int at, int c, int length)
    {
        var f = at;
        for (var round = 0; round < 16; round++)
        {
            var moved = false;
            foreach (var r in raw)
            {
                if (r.Start >= f || r.End <= f) continue;
                if (r.Valid && r.End < length) f = r.End;
                else if (r.End - r.Start <= _maxHold) f = r.Start;
                else continue;
                moved = true;
                break;
            }
            if (!moved) break;
        }
        return Math.Max(f, c);
    }

    /// <summary>A word that could be one group of a spaced finding: up to 24 characters of digits, capitals and <c>()+.-</c>.</summary>
    private static bool IsGroupWord(ReadOnlySpan<char> word)
    {
        if (word.Length is 0 or > 24) return false;
        foreach (var ch in word)
        {
            if (!IsGroupChar(ch)) return false;
        }
        return true;
    }

    private static bool IsGroupChar(char ch) => char.IsAsciiDigit(ch) || char.IsAsciiLetterUpper(ch) || ch is '(' or ')' or '+' or '.' or '-';

    private static ReadOnlySpan<char> GroupPrefix(ReadOnlySpan<char> word)
    {
        var i = 0;
        while (i < word.Length && IsGroupChar(word[i])) i++;
        return word[..i];
    }

    private static ReadOnlySpan<char> GroupSuffix(ReadOnlySpan<char> word)
    {
        var i = word.Length;
        while (i > 0 && IsGroupChar(word[i - 1])) i--;
        return word[i..];
    }

    private static string Tail(string text, int end) => end > ContextLength ? text[(end - ContextLength)..end] : text[..end];

    private static readonly string[] SecretPrefixes = ["eyJ", "sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xoxa-", "xoxb-",
        "xoxp-", "xoxo-", "xoxs-", "xoxr-", "sk_live_", "sk_test_", "rk_live_", "rk_test_"];

    /// <summary>The pending text ends in what could be the start of a secret token, which may be held longer than the usual bound.</summary>
    private static bool EndsLikeSecret(string b, int c)
    {
        var i = b.Length;
        while (i > c && (char.IsAsciiLetterOrDigit(b[i - 1]) || b[i - 1] is '_' or '-' or '.' or '~' or '+' or '/' or '=')) i--;
        var tail = b.AsSpan(i);
        foreach (var prefix in SecretPrefixes)
        {
            // The prefix may sit after a separator inside the token run (key=sk-…), so look for it at any boundary.
            var at = tail.IndexOf(prefix, StringComparison.Ordinal);
            if (at == 0 || (at > 0 && !char.IsAsciiLetterOrDigit(tail[at - 1]))) return true;
        }
        // "Bearer <token>": the word before the token run is Bearer.
        var j = i;
        var spaces = 0;
        while (j > c && b[j - 1] is ' ' or '\t' && spaces < 8)
        {
            j--;
            spaces++;
        }
        return spaces > 0 && j - 6 >= 0 && b.AsSpan(j - 6, 6).Equals("Bearer", StringComparison.OrdinalIgnoreCase)
               && (j - 6 == 0 || !char.IsAsciiLetterOrDigit(b[j - 7]));
    }

    [GeneratedRegex(@"^-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----", RegexOptions.CultureInvariant)]
    private static partial Regex PemHeader();

    [GeneratedRegex(@"-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----", RegexOptions.CultureInvariant)]
    private static partial Regex PemEnd();
}
