using System.Text.RegularExpressions;

namespace Switchyard.Core.Guardrails.Pii;

/// <summary>The built-in detectors of <c>default.pii</c>.</summary>
/// <remarks>
/// Every pattern starts with a look-behind that refuses to begin inside a run of letters or digits and ends with a
/// look-ahead of the same kind, written with ASCII classes so the streaming redactor can reason about token ends.
/// Whitespace inside a finding is only ever a single space (phone, card, IBAN and ID groups); the streaming redactor
/// relies on that to decide what it must hold back.
/// </remarks>
internal static partial class PiiPatterns
{
    private const int Timeout = 1000;
    private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture;

    public static readonly IReadOnlyList<PiiPattern> All =
    [
        new(PiiCategory.Secret, "private_key", PemKey(), null, 0, IsPem: true),
        new(PiiCategory.Secret, "jwt", Jwt(), null, 1, c => IsAlnum(c) || c is '_' or '-', c => c == '.'),
        new(PiiCategory.Secret, "bearer_token", BearerToken(), null, 2, c => IsAlnum(c) || c is '_' or '~' or '+' or '/' or '-' or '=', c => c == '.'),
        new(PiiCategory.Secret, "api_key", SkKey(), null, 3, c => IsAlnum(c) || c is '_' or '-'),
        new(PiiCategory.Secret, "github_token", GitHubToken(), null, 3, c => IsAlnum(c) || c == '_'),
        new(PiiCategory.Secret, "slack_token", SlackToken(), null, 3, c => IsAlnum(c) || c == '-'),
        new(PiiCategory.Secret, "stripe_key", StripeKey(), null, 3, IsAlnum),
        new(PiiCategory.Secret, "aws_access_key", AwsKey(), null, 3),
        new(PiiCategory.Secret, "google_api_key", GoogleKey(), null, 3),
        new(PiiCategory.Email, "email", Email(), null, 10),
        new(PiiCategory.Iban, "iban", Iban(), PiiValidators.Iban, 20),
        new(PiiCategory.CreditCard, "credit_card", Card(), PiiValidators.CreditCard, 30),
        new(PiiCategory.NationalId, "us_ssn", UsSsn(), PiiValidators.UsSsn, 40),
        new(PiiCategory.NationalId, "uk_nino", UkNino(), null, 40),
        new(PiiCategory.NationalId, "es_dni", SpanishId(), PiiValidators.SpanishId, 40),
        new(PiiCategory.NationalId, "in_aadhaar", Aadhaar(), PiiValidators.Aadhaar, 41),
        new(PiiCategory.NationalId, "ca_sin", CanadianSin(), PiiValidators.CanadianSin, 42),
        new(PiiCategory.IpAddress, "ipv4", IPv4(), null, 50),
        new(PiiCategory.IpAddress, "ipv6", IPv6(), PiiValidators.IPv6, 50),
        new(PiiCategory.Phone, "phone", InternationalPhone(), PiiValidators.InternationalPhone, 60),
        new(PiiCategory.Phone, "phone", NanpPhone(), PiiValidators.NanpPhone, 61),
        new(PiiCategory.Phone, "phone", TrunkPhone(), PiiValidators.TrunkPhone, 62),
    ];

    private static bool IsAlnum(char c) => char.IsAsciiLetterOrDigit(c);

    // An unterminated block is redacted to the end of the text: a key cut off mid-way is still a leaked key.
    [GeneratedRegex(@"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----|[\s\S]*)", Options, Timeout)]
    private static partial Regex PemKey();

    // Segments are joined by single dots; a period that is not followed by another segment ends the sentence, not the token.
    [GeneratedRegex(@"(?<![A-Za-z0-9_\-.])eyJ[A-Za-z0-9_\-]{5,4000}\.eyJ[A-Za-z0-9_\-]{5,8000}\.[A-Za-z0-9_\-]{0,4000}(?:\.[A-Za-z0-9_\-]{1,4000}){0,3}(?![A-Za-z0-9_\-]|\.[A-Za-z0-9_\-])", Options, Timeout)]
    private static partial Regex Jwt();

    // A JWT after Bearer is left to the JWT pattern, so both agree on where the token ends.
    [GeneratedRegex(@"(?<=\b[Bb]earer[ \t]{1,8})(?!eyJ)(?=[A-Za-z0-9._~+/=\-]{16})[A-Za-z0-9_~+/=\-]{1,4000}(?:\.[A-Za-z0-9_~+/=\-]{1,4000}){0,16}(?![A-Za-z0-9_~+/=\-]|\.[A-Za-z0-9_~+/=\-])", Options, Timeout)]
    private static partial Regex BearerToken();

    [GeneratedRegex(@"(?<![A-Za-z0-9_\-])sk-[A-Za-z0-9_\-]{20,1000}(?![A-Za-z0-9_\-])", Options, Timeout)]
    private static partial Regex SkKey();

    [GeneratedRegex(@"(?<![A-Za-z0-9_])(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])", Options, Timeout)]
    private static partial Regex GitHubToken();

    [GeneratedRegex(@"(?<![A-Za-z0-9\-])xox[abposr]-[A-Za-z0-9\-]{10,250}(?![A-Za-z0-9\-])", Options, Timeout)]
    private static partial Regex SlackToken();

    [GeneratedRegex(@"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}(?![A-Za-z0-9_])", Options, Timeout)]
    private static partial Regex StripeKey();

    [GeneratedRegex(@"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])", Options, Timeout)]
    private static partial Regex AwsKey();

    [GeneratedRegex(@"(?<![A-Za-z0-9_\-])AIza[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_\-])", Options, Timeout)]
    private static partial Regex GoogleKey();

    [GeneratedRegex(@"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9\-]|\.[A-Za-z0-9])", Options, Timeout)]
    private static partial Regex Email();

    [GeneratedRegex(@"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])", Options, Timeout)]
    private static partial Regex Iban();

    // Ungrouped, 4-4-4-4(-3) or 4-6-5/4-6-4 (American Express, Diners), one separator kind throughout.
    [GeneratedRegex(@"(?<![A-Za-z0-9\-])(?:[0-9]{13,19}|[0-9]{4}(?<s>[ \-])[0-9]{4}\k<s>[0-9]{4}\k<s>[0-9]{4}(?:\k<s>[0-9]{3})?|[0-9]{4}(?<t>[ \-])[0-9]{6}\k<t>[0-9]{4,5})(?![A-Za-z0-9\-])", Options, Timeout)]
    private static partial Regex Card();

    [GeneratedRegex(@"(?<![A-Za-z0-9\-])(?!000|666|9)[0-9]{3}(?<s>[\- ])(?!00)[0-9]{2}\k<s>(?!0000)[0-9]{4}(?![A-Za-z0-9\-])", Options, Timeout)]
    private static partial Regex UsSsn();

    [GeneratedRegex(@"(?<![A-Za-z0-9])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z](?: ?[0-9]{2}){3} ?[A-D](?![A-Za-z0-9])", Options, Timeout)]
    private static partial Regex UkNino();

    [GeneratedRegex(@"(?<![A-Za-z0-9])(?:[0-9]{8}|[XYZ]-?[0-9]{7})-?[A-Z](?![A-Za-z0-9])", Options, Timeout)]
    private static partial Regex SpanishId();

    [GeneratedRegex(@"(?<![A-Za-z0-9\-])[2-9][0-9]{3}(?<s>[ \-])[0-9]{4}\k<s>[0-9]{4}(?![A-Za-z0-9\-])", Options, Timeout)]
    private static partial Regex Aadhaar();

    [GeneratedRegex(@"(?<![A-Za-z0-9\-])[1-79][0-9]{2}(?<s>[ \-])[0-9]{3}\k<s>[0-9]{3}(?![A-Za-z0-9\-])", Options, Timeout)]
    private static partial Regex CanadianSin();

    [GeneratedRegex(@"(?<![A-Za-z0-9.])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?![A-Za-z0-9]|\.[0-9])", Options, Timeout)]
    private static partial Regex IPv4();

    [GeneratedRegex(@"(?<![A-Za-z0-9:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}(?:(?<=:)(?:[0-9]{1,3}\.){3}[0-9]{1,3})?(?![A-Za-z0-9:])", Options, Timeout)]
    private static partial Regex IPv6();

    [GeneratedRegex(@"(?<![A-Za-z0-9+])\+[1-9][0-9]{0,2}(?:[ .\-]?(?:\([0-9]{1,4}\)|[0-9]{1,5})){1,6}(?![A-Za-z0-9])", Options, Timeout)]
    private static partial Regex InternationalPhone();

    [GeneratedRegex(@"(?<![A-Za-z0-9+(])(?:1[ .\-])?(?:\([0-9]{3}\) ?|[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4}(?![A-Za-z0-9])", Options, Timeout)]
    private static partial Regex NanpPhone();

    [GeneratedRegex(@"(?<![A-Za-z0-9+(])(?:\(0[0-9]{1,4}\) ?[0-9]{2,8}(?:[ \-][0-9]{2,8}){0,3}|0[0-9]{1,4}(?:[ \-][0-9]{2,8}){1,4})(?![A-Za-z0-9])", Options, Timeout)]
    private static partial Regex TrunkPhone();
}
