using System.Net;
using System.Net.Sockets;

namespace Switchyard.Core.Guardrails.Pii;

/// <summary>Checksums and structure rules that turn a pattern match into a finding (and keep order numbers and dates out).</summary>
internal static class PiiValidators
{
    public static string Digits(string s) => new([.. s.Where(char.IsAsciiDigit)]);

    /// <summary>The Luhn (mod 10) check used by payment cards and Canadian SINs.</summary>
    public static bool Luhn(string digits)
    {
        var sum = 0;
        var doubleIt = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i] - '0';
            if (doubleIt)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
            doubleIt = !doubleIt;
        }
        return sum % 10 == 0;
    }

    /// <summary>A payment card: 13–19 digits, consistent grouping, a known issuer prefix and a valid Luhn digit.</summary>
    public static bool CreditCard(string match)
    {
        var digits = Digits(match);
        if (digits.Length is < 13 or > 19) return false;
        var separators = match.Where(c => !char.IsAsciiDigit(c)).Distinct().ToList();
        if (separators.Count > 1) return false;
        if (separators.Count == 1)
        {
            var groups = match.Split(separators[0]);
            if (groups.Any(g => g.Length is < 3 or > 6)) return false;
        }
        return KnownIssuer(digits) && Luhn(digits);
    }

    private static bool KnownIssuer(string d)
    {
        int P(int n) => int.Parse(d.AsSpan(0, n), System.Globalization.CultureInfo.InvariantCulture);
        if (d[0] == '4') return d.Length is 13 or 16 or 19;                                   // Visa
        if (P(2) is >= 51 and <= 55 || P(4) is >= 2221 and <= 2720) return d.Length == 16;   // Mastercard
        if (P(2) is 34 or 37) return d.Length == 15;                                         // American Express
        if (P(4) == 6011 || P(2) == 65 || P(3) is >= 644 and <= 649) return d.Length is 16 or 19; // Discover
        if (P(4) is >= 3528 and <= 3589) return d.Length is 16 or 19;                         // JCB
        if (P(3) is >= 300 and <= 305 || P(2) is 36 or 38) return d.Length is 14 or 16;      // Diners Club
        if (P(2) == 62) return d.Length is >= 16 and <= 19;                                   // UnionPay
        if (P(2) is 50 or (>= 56 and <= 69)) return d.Length is >= 13 and <= 19;              // Maestro
        return false;
    }

    private static readonly Dictionary<string, int> IbanLengths = new(StringComparer.Ordinal)
    {
        ["AD"] = 24, ["AE"] = 23, ["AT"] = 20, ["BE"] = 16, ["BG"] = 22, ["BH"] = 22, ["BR"] = 29, ["CH"] = 21, ["CY"] = 28,
        ["CZ"] = 24, ["DE"] = 22, ["DK"] = 18, ["EE"] = 20, ["ES"] = 24, ["FI"] = 18, ["FR"] = 27, ["GB"] = 22, ["GI"] = 23,
        ["GR"] = 27, ["HR"] = 21, ["HU"] = 28, ["IE"] = 22, ["IL"] = 23, ["IS"] = 26, ["IT"] = 27, ["KW"] = 30, ["KZ"] = 20,
        ["LI"] = 21, ["LT"] = 20, ["LU"] = 20, ["LV"] = 21, ["MC"] = 27, ["MT"] = 31, ["NL"] = 18, ["NO"] = 15, ["PL"] = 28,
        ["PT"] = 25, ["QA"] = 29, ["RO"] = 24, ["RS"] = 22, ["SA"] = 24, ["SE"] = 24, ["SI"] = 19, ["SK"] = 24, ["SM"] = 27,
        ["TR"] = 26, ["UA"] = 29,
    };

    /// <summary>An IBAN: the country's length (when known, else 15–34) and the ISO 7064 mod-97 check.</summary>
    public static bool Iban(string match)
    {
        var iban = match.Replace(" ", "", StringComparison.Ordinal);
        if (iban.Length is < 15 or > 34) return false;
        if (IbanLengths.TryGetValue(iban[..2], out var expected) && iban.Length != expected) return false;
        var rearranged = iban[4..] + iban[..4];
        var remainder = 0;
        foreach (var c in rearranged)
        {
            var value = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiLetterUpper(c) ? c - 'A' + 10 : -1;
            if (value < 0) return false;
            remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
        }
        return remainder == 1;
    }

    /// <summary>A US SSN: area not 000, 666 or 9xx, group not 00, serial not 0000 (also enforced by the pattern).</summary>
    public static bool UsSsn(string match)
    {
        var d = Digits(match);
        return d.Length == 9 && d[..3] is not ("000" or "666") && d[0] != '9' && d[3..5] != "00" && d[5..] != "0000";
    }

    private const string DniLetters = "TRWAGMYFPDXBNJZSQVHLCKE";

    /// <summary>A Spanish DNI (8 digits + check letter) or NIE (X/Y/Z + 7 digits + check letter).</summary>
    public static bool SpanishId(string match)
    {
        var s = match.Replace("-", "", StringComparison.Ordinal);
        var letter = s[^1];
        var body = s[..^1];
        body = body[0] switch
        {
            'X' => "0" + body[1..],
            'Y' => "1" + body[1..],
            'Z' => "2" + body[1..],
            _ => body,
        };
        if (body.Length != 8 || !body.All(char.IsAsciiDigit)) return false;
        return DniLetters[int.Parse(body, System.Globalization.CultureInfo.InvariantCulture) % 23] == letter;
    }

    /// <summary>A Canadian SIN: nine digits, Luhn-valid, not starting with 0 or 8.</summary>
    public static bool CanadianSin(string match)
    {
        var d = Digits(match);
        return d.Length == 9 && d[0] is not ('0' or '8') && Luhn(d);
    }

    private static readonly int[,] VerhoeffD =
    {
        { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 2, 3, 4, 0, 6, 7, 8, 9, 5 }, { 2, 3, 4, 0, 1, 7, 8, 9, 5, 6 },
        { 3, 4, 0, 1, 2, 8, 9, 5, 6, 7 }, { 4, 0, 1, 2, 3, 9, 5, 6, 7, 8 }, { 5, 9, 8, 7, 6, 0, 4, 3, 2, 1 },
        { 6, 5, 9, 8, 7, 1, 0, 4, 3, 2 }, { 7, 6, 5, 9, 8, 2, 1, 0, 4, 3 }, { 8, 7, 6, 5, 9, 3, 2, 1, 0, 4 },
        { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 },
    };

    private static readonly int[,] VerhoeffP =
    {
        { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 5, 7, 6, 2, 8, 3, 0, 9, 4 }, { 5, 8, 0, 3, 7, 9, 6, 1, 4, 2 },
        { 8, 9, 1, 6, 0, 4, 3, 5, 2, 7 }, { 9, 4, 5, 3, 1, 2, 6, 8, 7, 0 }, { 4, 2, 8, 6, 5, 7, 3, 9, 0, 1 },
        { 2, 7, 9, 3, 8, 0, 6, 4, 1, 5 }, { 7, 0, 4, 6, 9, 1, 3, 2, 5, 8 },
    };

    /// <summary>An Indian Aadhaar number: 12 digits, not starting with 0 or 1, Verhoeff-valid.</summary>
    public static bool Aadhaar(string match)
    {
        var d = Digits(match);
        if (d.Length != 12 || d[0] is '0' or '1') return false;
        var c = 0;
        for (var i = 0; i < d.Length; i++)
        {
            c = VerhoeffD[c, VerhoeffP[i % 8, d[d.Length - 1 - i] - '0']];
        }
        return c == 0;
    }

    /// <summary>A phone number: 8–15 digits (E.164) for the international form.</summary>
    public static bool InternationalPhone(string match)
    {
        var d = Digits(match);
        return d.Length is >= 8 and <= 15;
    }

    /// <summary>A North American number: area code and exchange start with 2–9.</summary>
    public static bool NanpPhone(string match)
    {
        var d = Digits(match);
        if (d.Length == 11 && d[0] == '1') d = d[1..];
        return d.Length == 10 && d[0] >= '2' && d[3] >= '2';
    }

    /// <summary>A national number with a trunk 0 (UK, France, Germany…): 9–11 digits in at least two groups.</summary>
    public static bool TrunkPhone(string match)
    {
        var d = Digits(match);
        // "00" starts an international access code, not a national number; such runs are more often IDs or dates.
        return d.Length is >= 9 and <= 11 && d[1] != '0';
    }

    public static bool IPv6(string match) =>
        match.Count(c => c == ':') >= 2 && match.Any(char.IsAsciiHexDigit)
        && IPAddress.TryParse(match, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6;
}
