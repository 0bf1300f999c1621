using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Switchyard.Core.Limits;

/// <summary>
/// <c>switchyard.limits.*</c>: refusals, budget use per subject and rule, alert thresholds crossed, and whether this replica is
/// counting on its own. Labels are configured names (keys, teams, virtual keys, models, policies); a policy's <c>per</c> values
/// never become labels.
/// </summary>
internal sealed class LimitMetrics
{
    public const string KindLabel = "switchyard.limit.kind";
    public const string SubjectKindLabel = "switchyard.limit.subject_kind";
    public const string SubjectLabel = "switchyard.limit.subject";
    public const string RuleLabel = "switchyard.limit.rule";
    public const string ThresholdLabel = "switchyard.limit.threshold";

    /// <summary>Budget gauges kept at most: subjects are configured, but a file can name many.</summary>
    private const int MaxBudgets = 10_000;

    private readonly Counter<long>? _refusals;
    private readonly Counter<long>? _storeErrors;
    private readonly ConcurrentDictionary<(string Kind, string Subject, string Rule), Budget> _budgets = new();

    private sealed class Budget(IReadOnlyList<decimal> thresholds)
    {
        public IReadOnlyList<decimal> Thresholds { get; } = thresholds;

        public double Ratio;
    }

    public LimitMetrics(Meter? meter, Func<int> degraded)
    {
        if (meter is null)
        {
            return;
        }
        _refusals = meter.CreateCounter<long>("switchyard.limits.refusals", "{request}",
            "Requests refused by a rate limit (429) or an exhausted budget (412), by limit kind, subject kind and subject");
        _storeErrors = meter.CreateCounter<long>("switchyard.limits.store.errors", "{operation}",
            "Redis counter operations that failed or timed out (the replica then counts its share locally)");
        meter.CreateObservableGauge("switchyard.limits.budget.used_ratio", ObserveRatios, unit: null,
            description: "Fraction of each budget used in its current period, by subject kind, subject and rule");
        meter.CreateObservableGauge("switchyard.limits.budget.alert", ObserveAlerts, unit: null,
            description: "1 while a budget's use is at or above one of its alert_thresholds, by subject, rule and threshold");
        meter.CreateObservableGauge("switchyard.limits.local_fallback", () => degraded(), unit: null,
            description: "1 while Redis is unreachable and this replica enforces its LIMITS_REPLICAS share of each limit locally");
    }

    public static string KindName(LimitSubjectKind kind) => kind switch
    {
        LimitSubjectKind.Key => "key",
        LimitSubjectKind.Team => "team",
        LimitSubjectKind.VirtualKey => "virtual_key",
        LimitSubjectKind.Model => "model",
        _ => "policy",
    };

    public void Refused(LimitKind kind, LimitSubjectKind subjectKind, string? label)
    {
        if (_refusals is { Enabled: true })
        {
            _refusals.Add(1,
                new KeyValuePair<string, object?>(KindLabel, kind == LimitKind.RateLimit ? "rate_limit" : "budget"),
                new KeyValuePair<string, object?>(SubjectKindLabel, KindName(subjectKind)),
                new KeyValuePair<string, object?>(SubjectLabel, label ?? "_per_value"));
        }
    }

    public void StoreError() => _storeErrors?.Add(1);

    public void BudgetUsed(LimitSubjectKind kind, string? label, LimitRule rule, long used, long limit)
    {
        if (label is null || limit <= 0 || _refusals is null)
        {
            return;
        }
        var key = (KindName(kind), label, rule.Describe());
        if (!_budgets.TryGetValue(key, out var budget))
        {
            if (_budgets.Count >= MaxBudgets)
            {
                return;
            }
            budget = _budgets.GetOrAdd(key, _ => new Budget(rule.AlertThresholds));
        }
        Volatile.Write(ref budget.Ratio, (double)used / limit);
    }

    private IEnumerable<Measurement<double>> ObserveRatios()
    {
        foreach (var ((kind, subject, rule), budget) in _budgets)
        {
            yield return new Measurement<double>(Volatile.Read(ref budget.Ratio),
                new KeyValuePair<string, object?>(SubjectKindLabel, kind), new KeyValuePair<string, object?>(SubjectLabel, subject),
                new KeyValuePair<string, object?>(RuleLabel, rule));
        }
    }

    private IEnumerable<Measurement<int>> ObserveAlerts()
    {
        foreach (var ((kind, subject, rule), budget) in _budgets)
        {
            var ratio = Volatile.Read(ref budget.Ratio);
            foreach (var t in budget.Thresholds)
            {
                yield return new Measurement<int>(ratio >= (double)t ? 1 : 0,
                    new KeyValuePair<string, object?>(SubjectKindLabel, kind), new KeyValuePair<string, object?>(SubjectLabel, subject),
                    new KeyValuePair<string, object?>(RuleLabel, rule),
                    new KeyValuePair<string, object?>(ThresholdLabel, t.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
    }
}
