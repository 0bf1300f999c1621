using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Switchyard.Core.Usage.Tokens;

/// <summary>Splits text with a tiktoken pattern the way tiktoken does, one Unicode code point at a time.</summary>
/// <remarks>
/// .NET regular expressions see UTF-16 code units, so a letter outside the Basic Multilingual Plane (𝐀, 𠀀) is two surrogates
/// that match no <c>\p{L}</c> and the split lands elsewhere than tiktoken's (OpenAI's encoder, like <c>gpt-tokenizer</c>, matches
/// code points): "𝐀's" must be one piece, and <c>RegexPreTokenizer</c> makes it two. Text without surrogates — nearly all of
/// it — is matched as is. Otherwise the pattern runs over a stand-in string with one character per code point, each
/// supplementary character replaced by a BMP character of the same general category (which is all the patterns look at), and
/// the pieces are mapped back to the original offsets.
/// </remarks>
internal sealed class CodePointPreTokenizer(Regex pattern) : PreTokenizer
{
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        text is null ? [] : PreTokenize(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return [];
        if (text.IndexOfAnyInRange('\uD800', '\uDFFF') < 0) return Split(text, null);

        var standIn = new char[text.Length];
        var offsets = new int[text.Length + 1];
        var length = 0;
        for (var i = 0; i < text.Length;)
        {
            offsets[length] = i;
            if (Rune.DecodeFromUtf16(text[i..], out var rune, out var consumed) == System.Buffers.OperationStatus.Done && consumed == 2)
            {
                standIn[length++] = StandIn(Rune.GetUnicodeCategory(rune));
            }
            else
            {
                // A BMP character, or a lone surrogate, which the pattern treats like any other symbol.
                standIn[length++] = text[i];
                consumed = 1;
            }
            i += consumed;
        }
        offsets[length] = text.Length;
        return Split(standIn.AsSpan(0, length), offsets);
    }

    private List<(int Offset, int Length)> Split(ReadOnlySpan<char> text, int[]? offsets)
    {
        var pieces = new List<(int, int)>();
        foreach (var match in pattern.EnumerateMatches(text))
        {
            if (match.Length == 0) continue;
            pieces.Add(offsets is null
                ? (match.Index, match.Length)
                : (offsets[match.Index], offsets[match.Index + match.Length] - offsets[match.Index]));
        }
        return pieces;
    }

    // A BMP character of each category the patterns distinguish (letters by case class, marks, numbers); every other
    // supplementary character (emoji, symbols, private use, unassigned) is neither letter, number nor space, like '#'.
    private static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => 'A',
        UnicodeCategory.LowercaseLetter => 'a',
        UnicodeCategory.TitlecaseLetter => '\u01C5',
        UnicodeCategory.ModifierLetter => '\u02B0',
        UnicodeCategory.OtherLetter => '\u05D0',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '0',
        UnicodeCategory.LetterNumber => '\u2160',
        UnicodeCategory.OtherNumber => '\u00B2',
        _ => '#',
    };
}
