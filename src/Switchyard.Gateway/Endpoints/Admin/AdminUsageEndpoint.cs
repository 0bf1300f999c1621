using System.Text.Json;
using Switchyard.Core.Limits;

namespace Switchyard.Gateway.Endpoints.Admin;

/// <summary>
/// <c>/v1/admin/usage</c>: every rate limit and budget with what is used and what remains, read from the engine's
/// <see cref="ILimitUsage"/> (null when no rule is configured anywhere).
/// </summary>
internal sealed class AdminUsageEndpoint(Func<ILimitUsage?> limits, ILogger<AdminUsageEndpoint> logger)
{
    private const string NoLimits = "No rate limits or budgets are configured";

    /// <summary>The path segment for each subject kind, as in <c>/v1/admin/usage/virtual-key/openai-prod</c>.</summary>
    public static readonly IReadOnlyDictionary<string, LimitSubjectKind> Kinds = new Dictionary<string, LimitSubjectKind>(StringComparer.Ordinal)
    {
        ["key"] = LimitSubjectKind.Key,
        ["team"] = LimitSubjectKind.Team,
        ["virtual-key"] = LimitSubjectKind.VirtualKey,
        ["model"] = LimitSubjectKind.Model,
        ["policy"] = LimitSubjectKind.Policy,
    };

    public async Task ListAsync(HttpContext context)
    {
        var usage = limits();
        var subjects = new List<(LimitSubject Subject, IReadOnlyList<LimitStatus>? Rules, string? Error)>();
        if (usage is not null)
        {
            foreach (var subject in usage.Subjects.OrderBy(s => s.Kind).ThenBy(s => s.Name, StringComparer.Ordinal))
            {
                var (rules, error) = await StatusAsync(usage, subject, context.RequestAborted);
                subjects.Add((subject, rules, error));
            }
        }
        await AdminResponses.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteBoolean("limits_configured", usage is not null);
            if (usage is null)
            {
                json.WriteString("message", NoLimits);
            }
            json.WriteStartArray("subjects");
            foreach (var (subject, rules, error) in subjects)
            {
                WriteSubject(json, subject, rules, error);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    public async Task GetAsync(HttpContext context, string kind, string name)
    {
        if (!Kinds.TryGetValue(kind, out var subjectKind))
        {
            await AdminResponses.ErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_kind",
                $"Unknown subject kind '{(kind.Length > 40 ? kind[..40] + "…" : kind)}': use {string.Join(", ", Kinds.Keys)}");
            return;
        }
        var subject = new LimitSubject(subjectKind, name);
        var usage = limits();
        if (usage is null)
        {
            await AdminResponses.WriteAsync(context, StatusCodes.Status200OK, json =>
            {
                json.WriteStartObject();
                json.WriteBoolean("limits_configured", false);
                json.WriteString("message", NoLimits);
                json.WriteString("kind", kind);
                json.WriteString("name", name);
                json.WriteStartArray("rules");
                json.WriteEndArray();
                json.WriteEndObject();
            });
            return;
        }
        if (!usage.Subjects.Contains(subject))
        {
            await AdminResponses.ErrorAsync(context, StatusCodes.Status404NotFound, "not_found", $"No rate limit or budget applies to {kind} '{name}'");
            return;
        }
        var (rules, error) = await StatusAsync(usage, subject, context.RequestAborted);
        if (error is not null)
        {
            await AdminResponses.ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "usage_unavailable", error);
            return;
        }
        await AdminResponses.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteBoolean("limits_configured", true);
            json.WriteString("kind", kind);
            json.WriteString("name", name);
            WriteRules(json, rules!);
            json.WriteEndObject();
        });
    }

    private async Task<(IReadOnlyList<LimitStatus>? Rules, string? Error)> StatusAsync(ILimitUsage usage, LimitSubject subject, CancellationToken ct)
    {
        try
        {
            return (await usage.StatusAsync(subject, ct), null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // One subject whose counters cannot be read (the shared store is down, say) must not hide the others.
            logger.LogWarning(ex, "Usage of {Kind} {Name} could not be read", subject.Kind, subject.Name);
            return (null, $"The usage of this subject could not be read ({ex.GetType().Name})");
        }
    }

    private static void WriteSubject(Utf8JsonWriter json, LimitSubject subject, IReadOnlyList<LimitStatus>? rules, string? error)
    {
        json.WriteStartObject();
        json.WriteString("kind", KindName(subject.Kind));
        json.WriteString("name", subject.Name);
        if (error is not null)
        {
            json.WriteString("error", error);
        }
        WriteRules(json, rules ?? []);
        json.WriteEndObject();
    }

    private static void WriteRules(Utf8JsonWriter json, IReadOnlyList<LimitStatus> rules)
    {
        json.WriteStartArray("rules");
        foreach (var status in rules)
        {
            json.WriteStartObject();
            AdminResponses.WriteRuleFields(json, status.Rule);
            json.WriteNumber("used", status.Used);
            json.WriteNumber("remaining", status.Remaining);
            if (status.ResetsAt is { } resets)
            {
                json.WriteString("resets_at", resets);
            }
            else
            {
                json.WriteNull("resets_at");
            }
            json.WriteString("source", status.Source);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static string KindName(LimitSubjectKind kind) => Kinds.First(k => k.Value == kind).Key;
}
