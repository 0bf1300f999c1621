using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Providers;
using Switchyard.Core.Routing.Conditions;
using Switchyard.Core.Security;

namespace Switchyard.Core.Configs;

/// <summary>Validates a routing config (Portkey's schema, stricter where Portkey fails late) and compiles it into an immutable tree.</summary>
public sealed class ConfigCompiler
{
    // Keys whose contents are data, not config: their own keys are never renamed (Portkey §4.2).
    private static readonly HashSet<string> RoutingKeys =
    [
        "strategy", "targets", "name", "weight", "provider", "api_key", "virtual_key", "override_params", "retry",
        "request_timeout", "cache", "custom_host", "forward_headers", "strict_open_ai_compliance",
        "before_request_hooks", "after_request_hooks", "input_guardrails", "output_guardrails",
        "input_mutators", "output_mutators", "default_input_guardrails", "default_output_guardrails",
        "on_status_codes", "id", "prompt_id",
    ];

    private readonly GatewaySettings _settings;
    private readonly ProviderRegistry _providers;
    private readonly CustomHostValidator _hosts;

    public ConfigCompiler(GatewaySettings settings, ProviderRegistry providers, CustomHostValidator hosts)
    {
        _settings = settings;
        _providers = providers;
        _hosts = hosts;
    }

    /// <summary>Compiles a config; on failure returns null and fills <paramref name="errors"/> with every problem found.</summary>
    public RoutingConfig? Compile(JsonElement root, string source, List<ConfigError> errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new ConfigError("", "a config must be a JSON object"));
            return null;
        }
        var before = errors.Count;
        var node = CompileNode(root, "", "config", TargetSettings.Empty, isRoot: true, errors);
        return errors.Count > before || node is null ? null : new RoutingConfig { Root = node, Source = source };
    }

    /// <summary>Converts Portkey's camelCase spellings (<c>overrideParams</c>) to the canonical snake_case.</summary>
    internal static string SnakeKey(string key)
    {
        var hasUpper = false;
        foreach (var c in key)
        {
            if (char.IsUpper(c))
            {
                hasUpper = true;
                break;
            }
        }
        if (!hasUpper)
        {
            return key;
        }
        var sb = new StringBuilder(key.Length + 4);
        foreach (var c in key)
        {
            if (char.IsUpper(c))
            {
                if (sb.Length > 0)
                {
                    sb.Append('_');
                }
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    private ConfigNode? CompileNode(JsonElement el, string path, string optionPath, TargetSettings inherited, bool isRoot, List<ConfigError> errors)
    {
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in el.EnumerateObject())
        {
            fields[SnakeKey(p.Name)] = p.Value;
        }
        var before = errors.Count;

        string? provider = null;
        if (fields.TryGetValue("provider", out var providerEl))
        {
            provider = RequireString(providerEl, Join(path, "provider"), errors);
            if (provider is not null && !_providers.TryGetProvider(provider, out _))
            {
                errors.Add(new ConfigError(Join(path, "provider"), $"unknown provider '{provider}'"));
            }
        }
        string? apiKey = fields.TryGetValue("api_key", out var keyEl) ? RequireString(keyEl, Join(path, "api_key"), errors) : null;
        string? name = fields.TryGetValue("name", out var nameEl) ? RequireString(nameEl, Join(path, "name"), errors) : null;

        var weight = 1.0;
        if (fields.TryGetValue("weight", out var weightEl))
        {
            if (weightEl.ValueKind != JsonValueKind.Number || !weightEl.TryGetDouble(out weight) || weight < 0 || double.IsNaN(weight) || double.IsInfinity(weight))
            {
                errors.Add(new ConfigError(Join(path, "weight"), "must be a number ≥ 0"));
                weight = 1;
            }
        }

        var settings = CompileSettings(fields, path, inherited, errors);

        StrategyMode? mode = null;
        IReadOnlySet<int>? fallbackCodes = null;
        JsonElement conditionsEl = default, defaultEl = default;
        if (fields.TryGetValue("strategy", out var strategyEl))
        {
            if (strategyEl.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new ConfigError(Join(path, "strategy"), "must be an object with a mode"));
            }
            else
            {
                var sp = Join(path, "strategy");
                mode = ParseMode(strategyEl, sp, errors);
                foreach (var sf in strategyEl.EnumerateObject())
                {
                    switch (SnakeKey(sf.Name))
                    {
                        case "on_status_codes":
                            fallbackCodes = StatusCodes(sf.Value, Join(sp, "on_status_codes"), errors);
                            break;
                        case "conditions":
                            conditionsEl = sf.Value;
                            break;
                        case "default":
                            defaultEl = sf.Value;
                            break;
                    }
                }
            }
        }

        var hasTargets = fields.TryGetValue("targets", out var targetsEl);
        if (mode is not null && !hasTargets)
        {
            errors.Add(new ConfigError(Join(path, "targets"), "a strategy needs a non-empty targets array"));
        }
        if (hasTargets && mode is null && !fields.ContainsKey("strategy"))
        {
            errors.Add(new ConfigError(Join(path, "strategy"), "targets need a strategy with a mode (single, loadbalance, fallback or conditional)"));
        }

        var children = new List<ConfigNode>();
        var childPaths = new List<string>();
        if (hasTargets)
        {
            if (targetsEl.ValueKind != JsonValueKind.Array || targetsEl.GetArrayLength() == 0)
            {
                errors.Add(new ConfigError(Join(path, "targets"), "must be a non-empty array of targets"));
            }
            else
            {
                var i = 0;
                foreach (var t in targetsEl.EnumerateArray())
                {
                    var tp = $"{Join(path, "targets")}[{i}]";
                    if (t.ValueKind != JsonValueKind.Object)
                    {
                        errors.Add(new ConfigError(tp, "a target must be an object"));
                    }
                    else if (CompileNode(t, tp, $"{optionPath}.targets[{i}]", settings, isRoot: false, errors) is { } child)
                    {
                        children.Add(child);
                        childPaths.Add(tp);
                    }
                    i++;
                }
            }
        }

        if (mode is null)
        {
            // A leaf. The root of a config may omit the provider: it then comes from x-portkey-provider.
            if (provider is null && !isRoot && !hasTargets)
            {
                errors.Add(new ConfigError(path, "a target needs a provider, or a strategy with targets"));
            }
            if (isRoot && provider is null && !hasTargets && !HasAnyRootSetting(fields))
            {
                errors.Add(new ConfigError("", "the config is empty: give a provider, or a strategy with targets (or retry, cache, request_timeout or hooks together with the x-portkey-provider header)"));
            }
            if (provider is not null && _providers.TryGetProvider(provider, out var descriptor)
                && descriptor.Family == "openai" && descriptor.BaseUrl is null && settings.CustomHost is null)
            {
                errors.Add(new ConfigError(Join(path, "custom_host"), $"provider '{provider}' has no public endpoint: set custom_host to its address"));
            }
            if (errors.Count > before)
            {
                return null;
            }
            return new ConfigNode
            {
                OptionPath = optionPath,
                Name = name,
                Weight = weight,
                Provider = provider,
                ApiKey = apiKey,
                ProviderFields = ProviderFields(fields),
                Settings = settings,
            };
        }

        if (fallbackCodes is not null && mode != StrategyMode.Fallback)
        {
            errors.Add(new ConfigError(Join(path, "strategy.on_status_codes"), "only applies to mode fallback"));
        }

        var cumulative = Array.Empty<double>();
        if (mode == StrategyMode.LoadBalance && children.Count > 0)
        {
            cumulative = new double[children.Count];
            var sum = 0.0;
            for (var c = 0; c < children.Count; c++)
            {
                sum += children[c].Weight;
                cumulative[c] = sum;
            }
            if (sum <= 0)
            {
                errors.Add(new ConfigError(Join(path, "targets"), "loadbalance needs at least one target with weight > 0"));
            }
        }

        var conditions = new List<(ConditionQuery, int)>();
        var defaultIndex = -1;
        if (mode == StrategyMode.Conditional)
        {
            CompileConditions(conditionsEl, defaultEl, Join(path, "strategy"), children, conditions, out defaultIndex, errors);
        }
        else if (conditionsEl.ValueKind != JsonValueKind.Undefined)
        {
            errors.Add(new ConfigError(Join(path, "strategy.conditions"), "only applies to mode conditional"));
        }

        if (errors.Count > before)
        {
            return null;
        }
        return new ConfigNode
        {
            OptionPath = optionPath,
            Mode = mode,
            Name = name,
            Weight = weight,
            Targets = children,
            FallbackOnStatusCodes = fallbackCodes,
            CumulativeWeights = cumulative,
            Conditions = conditions,
            DefaultTargetIndex = defaultIndex,
            Provider = provider,
            ApiKey = apiKey,
            ProviderFields = ProviderFields(fields),
            Settings = settings,
        };
    }

    private static bool HasAnyRootSetting(Dictionary<string, JsonElement> fields) =>
        fields.ContainsKey("retry") || fields.ContainsKey("cache") || fields.ContainsKey("request_timeout")
        || fields.ContainsKey("override_params") || fields.ContainsKey("before_request_hooks") || fields.ContainsKey("after_request_hooks")
        || fields.ContainsKey("input_guardrails") || fields.ContainsKey("output_guardrails") || fields.ContainsKey("custom_host")
        || fields.ContainsKey("forward_headers") || fields.ContainsKey("strict_open_ai_compliance");

    private static StrategyMode? ParseMode(JsonElement strategy, string path, List<ConfigError> errors)
    {
        JsonElement modeEl = default;
        foreach (var p in strategy.EnumerateObject())
        {
            if (p.NameEquals("mode"))
            {
                modeEl = p.Value;
            }
        }
        if (modeEl.ValueKind != JsonValueKind.String)
        {
            errors.Add(new ConfigError(Join(path, "mode"), "required: one of single, loadbalance, fallback, conditional"));
            return null;
        }
        switch (modeEl.GetString())
        {
            case "single": return StrategyMode.Single;
            case "loadbalance": return StrategyMode.LoadBalance;
            case "fallback": return StrategyMode.Fallback;
            case "conditional": return StrategyMode.Conditional;
            default:
                errors.Add(new ConfigError(Join(path, "mode"), $"'{modeEl.GetString()}' is not a strategy: use single, loadbalance, fallback or conditional"));
                return null;
        }
    }

    private static void CompileConditions(JsonElement conditionsEl, JsonElement defaultEl, string path, List<ConfigNode> children,
        List<(ConditionQuery, int)> conditions, out int defaultIndex, List<ConfigError> errors)
    {
        defaultIndex = -1;
        int IndexOf(string targetName) => children.FindIndex(c => c.Name == targetName);

        if (conditionsEl.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new ConfigError(Join(path, "conditions"), "conditional routing needs a conditions array of {query, then}"));
        }
        else
        {
            var i = 0;
            foreach (var c in conditionsEl.EnumerateArray())
            {
                var cp = $"{Join(path, "conditions")}[{i++}]";
                if (c.ValueKind != JsonValueKind.Object)
                {
                    errors.Add(new ConfigError(cp, "a condition must be an object with query and then"));
                    continue;
                }
                ConditionQuery? query = null;
                var index = -1;
                if (c.TryGetProperty("query", out var q))
                {
                    if (q.ValueKind != JsonValueKind.Object)
                    {
                        errors.Add(new ConfigError(Join(cp, "query"), "must be an object"));
                    }
                    else
                    {
                        query = ConditionQuery.Compile(q, Join(cp, "query"), errors);
                    }
                }
                else
                {
                    errors.Add(new ConfigError(Join(cp, "query"), "required"));
                }
                if (c.TryGetProperty("then", out var then) && then.ValueKind == JsonValueKind.String)
                {
                    index = IndexOf(then.GetString()!);
                    if (index < 0)
                    {
                        errors.Add(new ConfigError(Join(cp, "then"), $"no target is named '{then.GetString()}'"));
                    }
                }
                else
                {
                    errors.Add(new ConfigError(Join(cp, "then"), "required: the name of a target"));
                }
                if (query is not null && index >= 0)
                {
                    conditions.Add((query, index));
                }
            }
        }
        if (defaultEl.ValueKind == JsonValueKind.String)
        {
            defaultIndex = IndexOf(defaultEl.GetString()!);
            if (defaultIndex < 0)
            {
                errors.Add(new ConfigError(Join(path, "default"), $"no target is named '{defaultEl.GetString()}'"));
            }
        }
        else if (defaultEl.ValueKind != JsonValueKind.Undefined)
        {
            errors.Add(new ConfigError(Join(path, "default"), "must be the name of a target"));
        }
    }

    private TargetSettings CompileSettings(Dictionary<string, JsonElement> f, string path, TargetSettings inherited, List<ConfigError> errors)
    {
        var s = inherited;
        if (f.TryGetValue("override_params", out var op))
        {
            if (op.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new ConfigError(Join(path, "override_params"), "must be an object"));
            }
            else
            {
                var merged = inherited.OverrideParams is null ? new JsonObject() : (JsonObject)inherited.OverrideParams.DeepClone();
                foreach (var p in op.EnumerateObject())
                {
                    merged[p.Name] = JsonNode.Parse(p.Value.GetRawText());
                }
                s = s with { OverrideParams = merged };
            }
        }
        if (f.TryGetValue("retry", out var retry))
        {
            s = s with { Retry = CompileRetry(retry, Join(path, "retry"), errors) };
        }
        if (f.TryGetValue("cache", out var cache))
        {
            s = s with { Cache = CompileCache(cache, Join(path, "cache"), errors) };
        }
        if (f.TryGetValue("request_timeout", out var rt))
        {
            if (rt.ValueKind == JsonValueKind.Number && rt.TryGetInt32(out var ms) && ms > 0)
            {
                s = s with { RequestTimeoutMs = ms };
            }
            else
            {
                errors.Add(new ConfigError(Join(path, "request_timeout"), "must be a positive whole number of milliseconds"));
            }
        }
        if (f.TryGetValue("custom_host", out var ch))
        {
            if (ch.ValueKind != JsonValueKind.String)
            {
                errors.Add(new ConfigError(Join(path, "custom_host"), "must be a URL string"));
            }
            else if (!_hosts.TryValidate(ch.GetString(), out var uri, out var error))
            {
                errors.Add(new ConfigError(Join(path, "custom_host"), error ?? "not an allowed custom host"));
            }
            else
            {
                s = s with { CustomHost = uri!.GetLeftPart(UriPartial.Path).TrimEnd('/') };
            }
        }
        if (f.TryGetValue("forward_headers", out var fh))
        {
            var list = new List<string>();
            if (fh.ValueKind != JsonValueKind.Array)
            {
                errors.Add(new ConfigError(Join(path, "forward_headers"), "must be an array of header names"));
            }
            else
            {
                foreach (var h in fh.EnumerateArray())
                {
                    if (h.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(h.GetString()))
                    {
                        errors.Add(new ConfigError(Join(path, "forward_headers"), "must contain only header names"));
                    }
                    else if (h.GetString()!.Equals("x-portkey-forward-headers", StringComparison.OrdinalIgnoreCase))
                    {
                        errors.Add(new ConfigError(Join(path, "forward_headers"), "must not contain x-portkey-forward-headers"));
                    }
                    else
                    {
                        list.Add(h.GetString()!.Trim());
                    }
                }
            }
            s = s with { ForwardHeaders = list };
        }
        if (f.TryGetValue("strict_open_ai_compliance", out var strict))
        {
            if (strict.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                s = s with { StrictOpenAiCompliance = strict.GetBoolean() };
            }
            else
            {
                errors.Add(new ConfigError(Join(path, "strict_open_ai_compliance"), "must be true or false"));
            }
        }
        // Refusing guardrails beats carrying them unenforced: a deny rule that silently does nothing is a security hole.
        foreach (var hook in (string[])["before_request_hooks", "after_request_hooks", "input_guardrails", "output_guardrails",
                     "input_mutators", "output_mutators", "default_input_guardrails", "default_output_guardrails"])
        {
            if (f.ContainsKey(hook))
            {
                errors.Add(new ConfigError(Join(path, hook), "guardrails and hooks are not available in this version of Switchyard; remove them from the config"));
            }
        }
        return s;
    }

    private RetrySettings? CompileRetry(JsonElement el, string path, List<ConfigError> errors)
    {
        if (el.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new ConfigError(path, "must be an object such as {\"attempts\": 3}"));
            return null;
        }
        var attempts = -1;
        IReadOnlySet<int> codes = RetrySettings.DefaultStatusCodes;
        var useRetryAfter = true;
        foreach (var p in el.EnumerateObject())
        {
            switch (SnakeKey(p.Name))
            {
                case "attempts":
                    if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out attempts) || attempts < 0)
                    {
                        errors.Add(new ConfigError(Join(path, "attempts"), "must be a whole number ≥ 0"));
                        attempts = 0;
                    }
                    break;
                case "on_status_codes":
                    codes = StatusCodes(p.Value, Join(path, "on_status_codes"), errors) ?? codes;
                    break;
                case "use_retry_after_header":
                    if (p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        useRetryAfter = p.Value.GetBoolean();
                    }
                    else
                    {
                        errors.Add(new ConfigError(Join(path, "use_retry_after_header"), "must be true or false"));
                    }
                    break;
            }
        }
        if (attempts < 0)
        {
            errors.Add(new ConfigError(Join(path, "attempts"), "required"));
            return null;
        }
        return new RetrySettings(Math.Min(attempts, _settings.MaxRetryAttempts), codes, useRetryAfter);
    }

    private static CacheSettings? CompileCache(JsonElement el, string path, List<ConfigError> errors)
    {
        string? mode = null;
        int? maxAge = null;
        if (el.ValueKind == JsonValueKind.String)
        {
            mode = el.GetString();
        }
        else if (el.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in el.EnumerateObject())
            {
                switch (SnakeKey(p.Name))
                {
                    case "mode":
                        mode = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                        break;
                    case "max_age":
                        if (p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var age) && age > 0)
                        {
                            maxAge = age;
                        }
                        else
                        {
                            errors.Add(new ConfigError(Join(path, "max_age"), "must be a positive whole number of seconds"));
                        }
                        break;
                }
            }
        }
        if (mode is not ("simple" or "semantic"))
        {
            errors.Add(new ConfigError(Join(path, "mode"), "must be simple or semantic"));
            return null;
        }
        return new CacheSettings(mode, maxAge);
    }

    private static HashSet<int>? StatusCodes(JsonElement el, string path, List<ConfigError> errors)
    {
        if (el.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new ConfigError(path, "must be an array of HTTP status codes"));
            return null;
        }
        var set = new HashSet<int>();
        foreach (var c in el.EnumerateArray())
        {
            if (c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out var code) && code is >= 100 and <= 599)
            {
                set.Add(code);
            }
            else
            {
                errors.Add(new ConfigError(path, $"{c.GetRawText()} is not an HTTP status code (100–599)"));
            }
        }
        return set;
    }

    private static string? RequireString(JsonElement el, string path, List<ConfigError> errors)
    {
        if (el.ValueKind == JsonValueKind.String)
        {
            return el.GetString();
        }
        errors.Add(new ConfigError(path, "must be a string"));
        return null;
    }

    private static IReadOnlyDictionary<string, string> ProviderFields(Dictionary<string, JsonElement> fields)
    {
        Dictionary<string, string>? result = null;
        foreach (var (key, value) in fields)
        {
            if (RoutingKeys.Contains(key))
            {
                continue;
            }
            var text = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.Object or JsonValueKind.Array => value.GetRawText(),
                _ => null,
            };
            if (text is not null)
            {
                (result ??= new Dictionary<string, string>(StringComparer.Ordinal))[key] = text;
            }
        }
        return result ?? ConfigNode.EmptyFields;
    }
}
