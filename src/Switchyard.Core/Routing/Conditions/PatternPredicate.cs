using System.Text.RegularExpressions;

namespace Switchyard.Core.Routing.Conditions;

/// <summary><c>$regex</c>: a .NET regular expression, compiled once, searched (not anchored) in string values.</summary>
internal sealed class PatternPredicate(Regex pattern) : FieldPredicate
{
    /// <summary>Bounds one match so a pathological pattern or input cannot stall a request.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    public override bool Matches(in FieldValue value)
    {
        var text = value.AsString();
        if (text is null) return false;
        try
        {
            return pattern.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            // Treated like a non-match: the condition is skipped and routing moves on rather than failing the request.
            return false;
        }
    }
}
