namespace Switchyard.Core.Caching.Semantic;

/// <summary>The part of Unicode NFKC that matters for matching prompts, done by hand because the gateway runs with invariant globalization.</summary>
/// <remarks>
/// With <c>InvariantGlobalization</c> on, <see cref="string.Normalize()"/> is a no-op for non-ASCII text, so the
/// compatibility characters people actually paste (full-width forms, ligatures, exotic spaces and dashes, superscript
/// digits) are folded here. Everything else passes through unchanged.
/// </remarks>
internal static class CompatibilityFold
{
    /// <summary>Writes the folded form of <paramref name="c"/> to <paramref name="destination"/> and returns how many chars it wrote (0 to 3).</summary>
    public static int Fold(char c, Span<char> destination)
    {
        if (c < 0x80)
        {
            destination[0] = c;
            return 1;
        }

        switch (c)
        {
            case >= '\uFF01' and <= '\uFF5E': // full-width ASCII
                destination[0] = (char)(c - 0xFF01 + 0x21);
                return 1;
            case '\u00A0' or '\u1680' or (>= '\u2000' and <= '\u200A') or '\u202F' or '\u205F' or '\u3000' or '\u2028' or '\u2029':
                destination[0] = ' ';
                return 1;
            case '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF' or '\u00AD': // zero-width and soft hyphen
                return 0;
            case (>= '\u2010' and <= '\u2015') or '\u2212':
                destination[0] = '-';
                return 1;
            case '\u2018' or '\u2019' or '\u201A' or '\u2032':
                destination[0] = '\'';
                return 1;
            case '\u201C' or '\u201D' or '\u201E' or '\u2033' or '\u00AB' or '\u00BB':
                destination[0] = '"';
                return 1;
            case '\u2026':
                destination[..3].Fill('.');
                return 3;
            case '\u00B9':
                destination[0] = '1';
                return 1;
            case '\u00B2' or '\u00B3':
                destination[0] = (char)('2' + (c - '\u00B2'));
                return 1;
            case '\u2070':
                destination[0] = '0';
                return 1;
            case >= '\u2074' and <= '\u2079':
                destination[0] = (char)('4' + (c - '\u2074'));
                return 1;
            case >= '\u2080' and <= '\u2089':
                destination[0] = (char)('0' + (c - '\u2080'));
                return 1;
            case '\uFB00':
                return Write(destination, 'f', 'f');
            case '\uFB01':
                return Write(destination, 'f', 'i');
            case '\uFB02':
                return Write(destination, 'f', 'l');
            case '\uFB03':
                return Write(destination, 'f', 'f', 'i');
            case '\uFB04':
                return Write(destination, 'f', 'f', 'l');
            case '\uFB05' or '\uFB06':
                return Write(destination, 's', 't');
            default:
                destination[0] = c;
                return 1;
        }
    }

    /// <summary>The whole string folded; returns the same instance when nothing changes (the common, ASCII case).</summary>
    public static string Fold(string text)
    {
        var i = 0;
        while (i < text.Length && text[i] < 0x80)
        {
            i++;
        }

        if (i == text.Length)
        {
            return text;
        }

        var builder = new System.Text.StringBuilder(text.Length + 8);
        builder.Append(text, 0, i);
        Span<char> folded = stackalloc char[3];
        for (; i < text.Length; i++)
        {
            var n = Fold(text[i], folded);
            builder.Append(folded[..n]);
        }

        return builder.ToString();
    }

    private static int Write(Span<char> destination, char a, char b)
    {
        destination[0] = a;
        destination[1] = b;
        return 2;
    }

    private static int Write(Span<char> destination, char a, char b, char c)
    {
        destination[0] = a;
        destination[1] = b;
        destination[2] = c;
        return 3;
    }
}
