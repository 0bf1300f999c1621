using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Switchyard.Core.Limits;

/// <summary>
/// Reads <c>rate_limits</c> and <c>budgets</c> lists, the same in key files, virtual-key files and the limits file:
/// <code>
/// rate_limits:
///   - requests: 100     # or tokens: 20000
///     per: minute       # second | minute | hour | day
/// budgets:
///   - cost: 50          # US dollars; or tokens: 1000000
///     period: month     # day | week | month | total
///     alert_thresholds: [0.5, 0.8]
/// </code>
/// </summary>
public static class LimitRules
{
    private static readonly string[] RateFields = ["requests", "tokens", "per"];
    private static readonly string[] BudgetFields = ["cost", "tokens", "period", "alert_thresholds"];

    public static string Name(LimitWindow window) => window switch
    {
        LimitWindow.Second => "second",
        LimitWindow.Minute => "minute",
        LimitWindow.Hour => "hour",
        LimitWindow.Day => "day",
        LimitWindow.Week => "week",
        LimitWindow.Month => "month",
        _ => "total",
    };

    /// <summary>Both lists of an entry (<c>rate_limits</c>, <c>budgets</c>), rate limits first; empty when it sets neither.</summary>
    public static IReadOnlyList<LimitRule> Parse(JsonObject entry, string path, string label, List<(string Path, string Message)> errors)
    {
        var rules = new List<LimitRule>();
        if (entry["rate_limits"] is { } rate)
        {
            ParseList(rate, $"{path}.rate_limits", label, LimitKind.RateLimit, rules, errors);
        }
        if (entry["budgets"] is { } budgets)
        {
            ParseList(budgets, $"{path}.budgets", label, LimitKind.Budget, rules, errors);
        }
        return rules;
    }

    private static void ParseList(JsonNode node, string path, string label, LimitKind kind, List<LimitRule> rules, List<(string, string)> errors)
    {
        if (node is not JsonArray list)
        {
            errors.Add((path, $"{label}: '{(kind == LimitKind.RateLimit ? "rate_limits" : "budgets")}' must be a list"));
            return;
        }
        for (var i = 0; i < list.Count; i++)
        {
            var at = $"{path}[{i}]";
            if (list[i] is not JsonObject o)
            {
                errors.Add((at, $"{label}: each entry must be an object"));
                continue;
            }
            if ((kind == LimitKind.RateLimit ? ParseRate(o, at, label, errors) : ParseBudget(o, at, label, errors)) is { } rule)
            {
                rules.Add(rule);
            }
        }
    }

    private static LimitRule? ParseRate(JsonObject o, string at, string label, List<(string, string)> errors)
    {
        foreach (var (field, _) in o)
        {
            if (!RateFields.Contains(field))
            {
                errors.Add(($"{at}.{field}", $"{label}: unknown rate-limit field '{field}' (known: requests or tokens, and per)"));
                return null;
            }
        }
        var unit = Unit(o, at, label, ["requests", "tokens"], errors, out var amount);
        var per = Text(o, "per");
        LimitWindow? window = per switch
        {
            "second" => LimitWindow.Second,
            "minute" => LimitWindow.Minute,
            "hour" => LimitWindow.Hour,
            "day" => LimitWindow.Day,
            _ => null,
        };
        if (window is null)
        {
            errors.Add(($"{at}.per", $"{label}: 'per' must be second, minute, hour or day"));
        }
        return unit is null || window is null ? null : new LimitRule(LimitKind.RateLimit, unit.Value, window.Value, amount, []);
    }

    private static LimitRule? ParseBudget(JsonObject o, string at, string label, List<(string, string)> errors)
    {
        foreach (var (field, _) in o)
        {
            if (!BudgetFields.Contains(field))
            {
                errors.Add(($"{at}.{field}", $"{label}: unknown budget field '{field}' (known: cost or tokens, period, alert_thresholds)"));
                return null;
            }
        }
        var unit = Unit(o, at, label, ["cost", "tokens"], errors, out var amount);
        var period = Text(o, "period");
        LimitWindow? window = period switch
        {
            "day" => LimitWindow.Day,
            "week" => LimitWindow.Week,
            "month" => LimitWindow.Month,
            "total" => LimitWindow.Total,
            _ => null,
        };
        if (window is null)
        {
            errors.Add(($"{at}.period", $"{label}: 'period' must be day, week, month or total"));
        }
        var thresholds = new List<decimal>();
        if (o["alert_thresholds"] is { } t)
        {
            if (t is JsonArray a && a.All(x => Number(x) is > 0 and <= 1))
            {
                thresholds.AddRange(a.Select(x => Number(x)!.Value).Order());
            }
            else
            {
                errors.Add(($"{at}.alert_thresholds", $"{label}: 'alert_thresholds' must be a list of fractions of the budget, each above 0 and at most 1"));
            }
        }
        return unit is null || window is null ? null : new LimitRule(LimitKind.Budget, unit.Value, window.Value, amount, thresholds);
    }

    private static LimitUnit? Unit(JsonObject o, string at, string label, string[] allowed, List<(string, string)> errors, out decimal amount)
    {
        amount = 0;
        var present = allowed.Where(o.ContainsKey).ToList();
        if (present.Count != 1)
        {
            errors.Add((at, $"{label}: give exactly one of {string.Join(" or ", allowed)}"));
            return null;
        }
        var field = present[0];
        if (Number(o[field]) is { } d && d > 0
            && (field == "cost" || decimal.Truncate(d) == d))
        {
            amount = d;
            return field switch
            {
                "requests" => LimitUnit.Requests,
                "tokens" => LimitUnit.Tokens,
                _ => LimitUnit.Cost,
            };
        }
        errors.Add(($"{at}.{field}", $"{label}: '{field}' must be a positive {(field == "cost" ? "number (US dollars)" : "whole number")}"));
        return null;
    }

    // YAML numbers arrive as long or double values, JSON ones as elements: read them all through their JSON text.
    private static decimal? Number(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number
        && decimal.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    private static string? Text(JsonObject o, string field) =>
        o[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>().Trim().ToLower(CultureInfo.InvariantCulture) : null;
}
