using System.Text.RegularExpressions;

namespace Switchyard.Core.Guardrails.Pii;

/// <summary>One detector: a pattern, the validator a match must pass, and how the streaming redactor treats it.</summary>
/// <param name="Priority">Breaks ties between overlapping findings that start at the same place (lower wins).</param>
/// <param name="TokenChars">For open-ended secrets (API keys, JWTs): the characters the token is made of, so a stream can
/// drop the rest of a token it has already redacted instead of holding it back.</param>
/// <param name="InnerChars">Characters that belong to the token only when another token character follows (the dots
/// between JWT segments), so a sentence's closing period is not swallowed.</param>
/// <param name="IsPem">A PEM private key block, redacted up to its END line (or to the end of the text).</param>
internal sealed record PiiPattern(
    PiiCategory Category,
    string Kind,
    Regex Regex,
    Func<string, bool>? Validate,
    int Priority,
    Func<char, bool>? TokenChars = null,
    Func<char, bool>? InnerChars = null,
    bool IsPem = false);
