using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Configs;

namespace Switchyard.Core.Limits;

/// <summary>A usage-limit policy from the limits file: the requests it matches, how it splits its counters, and its rules.</summary>
/// <param name="Metadata">Entries of <c>x-portkey-metadata</c> that must all be present with these values.</param>
/// <param name="PerMetadataKey">With <c>per: metadata.&lt;key&gt;</c>, one counter per value of that key; null shares one counter.</param>
public sealed record LimitPolicy(string Name, FrozenDictionary<string, string> Metadata, string? Provider, string? Model, string? Config,
    string? PerMetadataKey, IReadOnlyList<LimitRule> Rules);

/// <summary>What the limits files hold together: rules by team and by model, and the policies in file order.</summary>
public sealed class LimitsIndex
{
    public static readonly LimitsIndex Empty = new();

    public FrozenDictionary<string, IReadOnlyList<LimitRule>> Teams { get; init; } = FrozenDictionary<string, IReadOnlyList<LimitRule>>.Empty;

    public FrozenDictionary<string, IReadOnlyList<LimitRule>> Models { get; init; } = FrozenDictionary<string, IReadOnlyList<LimitRule>>.Empty;

    public IReadOnlyList<LimitPolicy> Policies { get; init; } = [];

    /// <summary>No rule at all: the admission step then costs one check.</summary>
    public bool IsEmpty => Teams.Count == 0 && Models.Count == 0 && Policies.Count == 0;

    /// <summary>Some rule counts tokens or cost, so requests must carry their usage to settlement.</summary>
    public bool CountsUsage { get; init; }

    /// <summary>Policies with a <c>metadata</c> match: the request's metadata header is parsed only when one exists.</summary>
    public bool ReadsMetadata { get; init; }
}

/// <summary>
/// Reads one limits file (<c>LIMITS_PATH</c>, JSON or YAML):
/// <code>
/// teams:
///   ml-platform: {rate_limits: [...], budgets: [...]}
/// models:
///   gpt-4o: {rate_limits: [{tokens: 200000, per: minute}]}
/// policies:
///   - name: free-tier
///     match: {metadata: {tier: free}, provider: openai, model: gpt-4o-mini, config: chat}
///     per: metadata._user
///     rate_limits: [...]
///     budgets: [...]
/// </code>
/// </summary>
public static class LimitsFile
{
    /// <summary>One file's content as parsed: problems make the whole file refused (its last good version keeps serving).</summary>
    public sealed record Content(IReadOnlyDictionary<string, IReadOnlyList<LimitRule>> Teams, IReadOnlyDictionary<string, IReadOnlyList<LimitRule>> Models,
        IReadOnlyList<LimitPolicy> Policies);

    private static readonly string[] TopFields = ["teams", "models", "policies"];
    private static readonly string[] PolicyFields = ["name", "match", "per", "rate_limits", "budgets", "description"];
    private static readonly string[] MatchFields = ["metadata", "provider", "model", "config"];

    public static Content? Parse(string text, string fileName, List<(string Path, string Message)> errors, List<string> warnings)
    {
        var isYaml = !fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        var root = isYaml ? ConfigText.ParseYaml(text, out var parseError) : ConfigText.ParseJson(text, out parseError);
        if (root is null)
        {
            // An empty file is refused too: it is what a reader sees halfway through a rewrite, and must not lift every limit.
            errors.Add(("", parseError ?? "unreadable"));
            return null;
        }
        if (root is not JsonObject top)
        {
            errors.Add(("$", "expected an object with teams, models and/or policies"));
            return null;
        }
        foreach (var (field, _) in top)
        {
            if (!TopFields.Contains(field))
            {
                warnings.Add($"Limits file {fileName}: unknown field '{field}' is ignored (known: teams, models, policies)");
            }
        }
        var teams = Named(top["teams"], "$.teams", "team", errors);
        var models = Named(top["models"], "$.models", "model", errors);
        var policies = new List<LimitPolicy>();
        if (top["policies"] is { } p)
        {
            if (p is not JsonArray list)
            {
                errors.Add(("$.policies", "'policies' must be a list"));
            }
            else
            {
                for (var i = 0; i < list.Count; i++)
                {
                    if (Policy(list[i], $"$.policies[{i}]", errors, warnings, fileName) is { } policy)
                    {
                        if (policies.Any(x => x.Name == policy.Name))
                        {
                            errors.Add(($"$.policies[{i}].name", $"policy '{policy.Name}' is defined twice"));
                            continue;
                        }
                        policies.Add(policy);
                    }
                }
            }
        }
        return errors.Count > 0 ? null : new Content(teams, models, policies);
    }

    private static Dictionary<string, IReadOnlyList<LimitRule>> Named(JsonNode? node, string path, string what, List<(string, string)> errors)
    {
        var result = new Dictionary<string, IReadOnlyList<LimitRule>>(StringComparer.Ordinal);
        if (node is null)
        {
            return result;
        }
        if (node is not JsonObject o)
        {
            errors.Add((path, $"'{what}s' must map each {what} name to its rate_limits and budgets"));
            return result;
        }
        foreach (var (name, value) in o)
        {
            var at = $"{path}.{name}";
            if (value is not JsonObject entry)
            {
                errors.Add((at, $"{what} '{name}': expected an object with rate_limits and/or budgets"));
                continue;
            }
            foreach (var (field, _) in entry)
            {
                if (field is not ("rate_limits" or "budgets"))
                {
                    errors.Add(($"{at}.{field}", $"{what} '{name}': unknown field '{field}' (known: rate_limits, budgets)"));
                }
            }
            result[name] = LimitRules.Parse(entry, at, $"{what} '{name}'", errors);
        }
        return result;
    }

    private static LimitPolicy? Policy(JsonNode? node, string at, List<(string, string)> errors, List<string> warnings, string fileName)
    {
        if (node is not JsonObject o)
        {
            errors.Add((at, "each policy must be an object"));
            return null;
        }
        var before = errors.Count;
        var name = Text(o, "name");
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add(($"{at}.name", "a policy needs a name"));
            return null;
        }
        var label = $"policy '{name}'";
        foreach (var (field, _) in o)
        {
            if (!PolicyFields.Contains(field))
            {
                warnings.Add($"Limits file {fileName}: {label} has an unknown field '{field}', which is ignored");
            }
        }
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        string? provider = null, model = null, config = null;
        if (o["match"] is { } m)
        {
            if (m is not JsonObject match)
            {
                errors.Add(($"{at}.match", $"{label}: 'match' must be an object"));
            }
            else
            {
                foreach (var (field, _) in match)
                {
                    if (!MatchFields.Contains(field))
                    {
                        errors.Add(($"{at}.match.{field}", $"{label}: unknown match field '{field}' (known: metadata, provider, model, config)"));
                    }
                }
                if (match["metadata"] is { } md)
                {
                    if (md is JsonObject mo && mo.All(e => Scalar(e.Value) is not null))
                    {
                        foreach (var (k, v) in mo)
                        {
                            metadata[k] = Scalar(v)!;
                        }
                    }
                    else
                    {
                        errors.Add(($"{at}.match.metadata", $"{label}: 'metadata' must map keys to string, number or boolean values"));
                    }
                }
                provider = Text(match, "provider");
                model = Text(match, "model");
                config = Text(match, "config");
            }
        }
        string? per = null;
        if (o["per"] is { } perNode)
        {
            var text = perNode is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>().Trim() : null;
            if (text is null || !text.StartsWith("metadata.", StringComparison.Ordinal) || text.Length == "metadata.".Length)
            {
                errors.Add(($"{at}.per", $"{label}: 'per' must be metadata.<key>, e.g. metadata._user"));
            }
            else
            {
                per = text["metadata.".Length..];
            }
        }
        var rules = LimitRules.Parse(o, at, label, errors);
        if (errors.Count > before)
        {
            return null;
        }
        if (rules.Count == 0)
        {
            warnings.Add($"Limits file {fileName}: {label} sets no rate_limits or budgets and has no effect");
        }
        return new LimitPolicy(name.Trim(), metadata.ToFrozenDictionary(StringComparer.Ordinal), provider, model, config, per, rules);
    }

    /// <summary>A metadata value as compared: a string as it is, a number or boolean as its JSON text.</summary>
    internal static string? Scalar(JsonNode? node) => node is JsonValue v
        ? v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.ToJsonString(),
            _ => null,
        }
        : null;

    private static string? Text(JsonObject o, string field) =>
        o[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>().Trim() : null;

    /// <summary>Combines every file (in file-name order): a team, model or policy defined in two files keeps its first definition.</summary>
    public static LimitsIndex Combine(IReadOnlyList<KeyValuePair<string, Content>> files, List<ConfigLoadProblem> problems, List<string> warnings)
    {
        var teams = new Dictionary<string, IReadOnlyList<LimitRule>>(StringComparer.Ordinal);
        var models = new Dictionary<string, IReadOnlyList<LimitRule>>(StringComparer.OrdinalIgnoreCase);
        var policies = new List<LimitPolicy>();
        foreach (var (file, content) in files)
        {
            foreach (var (name, rules) in content.Teams)
            {
                if (!teams.TryAdd(name, rules))
                {
                    problems.Add(new ConfigLoadProblem(file, $"$.teams.{name}", $"team '{name}' is already defined in an earlier file; the first definition is used", true));
                }
            }
            foreach (var (name, rules) in content.Models)
            {
                if (!models.TryAdd(name, rules))
                {
                    problems.Add(new ConfigLoadProblem(file, $"$.models.{name}", $"model '{name}' is already defined in an earlier file; the first definition is used", true));
                }
            }
            foreach (var policy in content.Policies)
            {
                if (policies.Any(p => p.Name == policy.Name))
                {
                    problems.Add(new ConfigLoadProblem(file, "$.policies", $"policy '{policy.Name}' is already defined in an earlier file; the first definition is used", true));
                    continue;
                }
                policies.Add(policy);
            }
        }
        // Empty rule lists are dropped: a subject without rules must not cost a counter round trip.
        var all = teams.Values.Concat(models.Values).Concat(policies.Select(p => p.Rules)).SelectMany(r => r);
        return new LimitsIndex
        {
            Teams = teams.Where(t => t.Value.Count > 0).ToFrozenDictionary(StringComparer.Ordinal),
            Models = models.Where(t => t.Value.Count > 0).ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            Policies = policies.Where(p => p.Rules.Count > 0).ToList(),
            CountsUsage = all.Any(r => r.Unit != LimitUnit.Requests),
            ReadsMetadata = policies.Any(p => p.Metadata.Count > 0 || p.PerMetadataKey is not null),
        };
    }
}
