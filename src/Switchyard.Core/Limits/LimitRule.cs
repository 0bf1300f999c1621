namespace Switchyard.Core.Limits;

/// <summary>A rate limit (refused with 429 while the window is full) or a budget (refused with 412 once spent).</summary>
public enum LimitKind
{
    RateLimit,
    Budget,
}

/// <summary>What a rule counts: requests, tokens (prompt plus completion), or cost in US dollars.</summary>
public enum LimitUnit
{
    Requests,
    Tokens,
    Cost,
}

/// <summary>The window a rate limit slides over, or the period a budget resets on (UTC calendar), or never (<see cref="Total"/>).</summary>
public enum LimitWindow
{
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Total,
}

/// <summary>One limit as written in a key, virtual-key or limits file: e.g. 100 requests per minute, or $50 per month.</summary>
/// <param name="AlertThresholds">Fractions of <paramref name="Amount"/> (0 &lt; t ≤ 1) exported as alert metrics; budgets only.</param>
public sealed record LimitRule(LimitKind Kind, LimitUnit Unit, LimitWindow Window, decimal Amount, IReadOnlyList<decimal> AlertThresholds)
{
    /// <summary>For messages and the admin API: <c>100 requests per minute</c>, <c>50 USD per month</c>, <c>1000000 tokens in total</c>.</summary>
    public string Describe()
    {
        var unit = Unit switch
        {
            LimitUnit.Requests => "requests",
            LimitUnit.Tokens => "tokens",
            _ => "USD",
        };
        var amount = Amount.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture);
        return Window == LimitWindow.Total ? $"{amount} {unit} in total" : $"{amount} {unit} per {LimitRules.Name(Window)}";
    }
}
