using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Guardrails;
using Switchyard.Core.Providers;
using Switchyard.Core.Routing;
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

    // The keys of a node that the router or the settings act on. Any other key would be carried and never read, so it is
    // refused: a typo such as overide_params must not quietly route without its override.
    private static readonly FrozenSet<string> NodeKeys = new[]
    {
        "strategy", "targets", "name", "weight", "provider", "api_key", "virtual_key", "override_params", "retry", "request_timeout", "cache",
        "custom_host", "forward_headers", "strict_open_ai_compliance",
    }.ToFrozenSet(StringComparer.Ordinal);

    // Refused with their own message by CompileSettings.
    private static readonly FrozenSet<string> HookKeys = new[]
    {
        "before_request_hooks", "after_request_hooks", "input_guardrails", "output_guardrails",
        "input_mutators", "output_mutators", "default_input_guardrails", "default_output_guardrails",
    }.ToFrozenSet(StringComparer.Ordinal);

    // Portkey keys this version accepts nowhere, each with the reason, so the author knows it is not a typo.
    private static readonly FrozenDictionary<string, string> UnsupportedNodeKeys = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["on_status_codes"] = "on_status_codes on a target is a legacy Portkey field that routing never reads; use strategy.on_status_codes (fallback) or retry.on_status_codes",
        ["id"] = "id is not used by Switchyard (in Portkey it only marks targets for circuit breaking, which this version does not have); use name to label a target",
        ["prompt_id"] = "prompt templates are not available in this version of Switchyard; send the prompt in the request body",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, string> UnsupportedStrategyKeys = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sticky"] = "sticky load balancing is not available in this version of Switchyard; remove strategy.sticky",
        ["cb_config"] = "the circuit breaker is not available in this version of Switchyard; remove strategy.cb_config",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    // Keys that are right one level down: "mode" at a node is almost always a strategy.mode written in the wrong place.
    private static readonly FrozenDictionary<string, string> NestedHomes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["mode"] = "strategy.mode", ["conditions"] = "strategy.conditions", ["default"] = "strategy.default",
        ["sticky"] = "strategy.sticky", ["cb_config"] = "strategy.cb_config",
        ["attempts"] = "retry.attempts", ["use_retry_after_header"] = "retry.use_retry_after_header", ["max_age"] = "cache.max_age",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly string[] StrategyKeys = ["mode", "on_status_codes", "conditions", "default"];
    private static readonly string[] RetryKeys = ["attempts", "on_status_codes", "use_retry_after_header"];
    private static readonly string[] CacheKeys = ["mode", "max_age"];
    private static readonly string[] ConditionKeys = ["query", "then"];

    private readonly RetryOptions _retry;
    private readonly ProviderRegistry _providers;
    private readonly CustomHostValidator _hosts;
    private readonly GuardrailCompiler _guardrails;

    /// <param name="retry">Caps <c>retry.attempts</c> at <see cref="RetryOptions.MaxAttempts"/>.</param>
    /// <param name="guardrails">Compiles hooks; by default one whose checks call out through a shared, non-redirecting HTTP client.</param>
    public ConfigCompiler(RetryOptions retry, ProviderRegistry providers, CustomHostValidator hosts, GuardrailCompiler? guardrails = null)
    {
        _retry = retry;
        _providers = providers;
        _hosts = hosts;
        // The default (system clock) serves compilers built outside the engine (tests, tools); the engine passes its own, on its clock.
        _guardrails = guardrails ?? new GuardrailCompiler(new GuardrailServices(DefaultGuardrailHttp.Value, hosts));
    }

    private static readonly Lazy<HttpMessageInvoker> DefaultGuardrailHttp = new(() => new HttpMessageInvoker(
        new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }));

    /// <summary>The hook compiler this config compiler uses (also for the default-guardrail headers).</summary>
    public GuardrailCompiler Guardrails => _guardrails;

    /// <summary>Compiles a config; on failure returns null and fills <paramref name="errors"/> with every problem found.</summary>
    public RoutingConfig? Compile(JsonElement root, string source, List<ConfigError> errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new ConfigError("", "a config must be a JSON object"));
            return null;
        }
        var before = errors.Count;
        RefuseAmbiguousText(root, "", errors);
        if (errors.Count > before)
        {
            // Reading keys and strings below would throw on what was just found.
            return null;
        }
        var node = CompileNode(root, "", "config", TargetSettings.Empty, isRoot: true, errors);
        LogSettings? logging = null;
        foreach (var p in root.EnumerateObject())
        {
            if (SnakeKey(p.Name) == "logging")
            {
                logging = CompileLogging(p.Value, p.Name, errors);
            }
        }
        return errors.Count > before || node is null ? null : new RoutingConfig { Root = node, Source = source, Logging = logging, VirtualKeys = VirtualKeySlugs(node) };
    }

    private static List<string> VirtualKeySlugs(ConfigNode root)
    {
        var slugs = new List<string>();
        void Walk(ConfigNode n)
        {
            if (n.VirtualKey is { } slug && !slugs.Contains(slug, StringComparer.Ordinal))
            {
                slugs.Add(slug);
            }
            foreach (var t in n.Targets)
            {
                Walk(t);
            }
        }
        Walk(root);
        return slugs;
    }

    /// <summary>The root's <c>logging</c> block: <c>{"bodies": bool, "max_body_bytes": n}</c>, both optional.</summary>
    private static LogSettings? CompileLogging(JsonElement el, string path, List<ConfigError> errors)
    {
        if (el.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new ConfigError(path, "logging must be an object: {\"bodies\": true|false, \"max_body_bytes\": n}"));
            return null;
        }
        bool? bodies = null;
        int? max = null;
        foreach (var p in el.EnumerateObject())
        {
            var at = Join(path, p.Name);
            switch (SnakeKey(p.Name))
            {
                case "bodies" when p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    bodies = p.Value.GetBoolean();
                    break;
                case "bodies":
                    errors.Add(new ConfigError(at, "bodies must be true or false"));
                    break;
                case "max_body_bytes" when p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var n) && n >= 0:
                    max = n;
                    break;
                case "max_body_bytes":
                    errors.Add(new ConfigError(at, "max_body_bytes must be a whole number of bytes, 0 or more"));
                    break;
                default:
                    errors.Add(new ConfigError(at, $"unknown key '{p.Name}' in logging: it takes bodies and max_body_bytes"));
                    break;
            }
        }
        return new LogSettings(bodies, max);
    }

    /// <summary>Refuses a key given twice in one object (one of its values would be silently dropped) and strings that are not valid Unicode.</summary>
    /// <remarks>An escaped lone surrogate (<c>"\uD800"</c>) is JSON syntax but cannot become a .NET string, so it would throw wherever it is first read.</remarks>
    private static void RefuseAmbiguousText(JsonElement el, string path, List<ConfigError> errors)
    {
        switch (el.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var p in el.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = p.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        errors.Add(new ConfigError(path, "a key contains an unpaired UTF-16 surrogate escape; JSON text must be valid Unicode"));
                        continue;
                    }
                    if (!seen.Add(name))
                    {
                        errors.Add(new ConfigError(Join(path, name), "the key is given twice in one object; remove one (only one value could be used)"));
                    }
                    RefuseAmbiguousText(p.Value, Join(path, name), errors);
                }
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in el.EnumerateArray())
                {
                    RefuseAmbiguousText(item, $"{path}[{i++}]", errors);
                }
                break;
            case JsonValueKind.String:
                try
                {
                    _ = el.GetString();
                }
                catch (InvalidOperationException)
                {
                    errors.Add(new ConfigError(path, "contains an unpaired UTF-16 surrogate escape (such as \\uD800 alone); JSON text must be valid Unicode"));
                }
                break;
        }
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
        // The key as written, for error paths: a user looking for "overideParams" will not find "overide_params".
        var spelling = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in el.EnumerateObject())
        {
            var key = SnakeKey(p.Name);
            fields[key] = p.Value;
            spelling[key] = p.Name;
        }
        // Read by Compile for the whole config; a target has no logging of its own.
        var logging = fields.Remove("logging");
        if (logging && !isRoot)
        {
            errors.Add(new ConfigError(Join(path, spelling["logging"]), "logging applies to the whole config: set it at the root"));
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
        RefuseUnreadKeys(fields, spelling, path, provider, routes: fields.ContainsKey("strategy") || fields.ContainsKey("targets"), errors);
        RefuseUnsendableValues(fields, spelling, path, errors);
        string? apiKey = fields.TryGetValue("api_key", out var keyEl) ? RequireString(keyEl, Join(path, "api_key"), errors) : null;
        string? virtualKey = null;
        if (fields.TryGetValue("virtual_key", out var virtualKeyEl))
        {
            virtualKey = RequireString(virtualKeyEl, Join(path, spelling["virtual_key"]), errors);
            if (virtualKey is { Length: 0 })
            {
                errors.Add(new ConfigError(Join(path, spelling["virtual_key"]), "must be the slug of a virtual key"));
            }
            else if (apiKey is not null)
            {
                errors.Add(new ConfigError(Join(path, "api_key"), "a target with virtual_key takes its credential from the virtual key; remove api_key"));
            }
        }
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
                    var key = SnakeKey(sf.Name);
                    switch (key)
                    {
                        case "mode":
                            break;
                        case "on_status_codes":
                            fallbackCodes = StatusCodes(sf.Value, Join(sp, "on_status_codes"), errors);
                            break;
                        case "conditions":
                            conditionsEl = sf.Value;
                            break;
                        case "default":
                            defaultEl = sf.Value;
                            break;
                        default:
                            errors.Add(new ConfigError(Join(sp, sf.Name), UnsupportedStrategyKeys.TryGetValue(key, out var why) ? why : UnknownKey(sf.Name, key, StrategyKeys)));
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
            if (provider is null && virtualKey is null && !isRoot && !hasTargets)
            {
                errors.Add(new ConfigError(path, "a target needs a provider (or a virtual_key), or a strategy with targets"));
            }
            if (virtualKey is not null)
            {
                RefuseVirtualKeyOverrides(fields, spelling, path, settings, errors);
            }
            if (isRoot && provider is null && virtualKey is null && !hasTargets && !HasAnyRootSetting(fields) && !logging)
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
                VirtualKey = virtualKey,
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
            else if (double.IsInfinity(sum))
            {
                // An infinite total would make every pick land on the last target.
                errors.Add(new ConfigError(Join(path, "targets"), "the weights add up to more than a number can hold; use smaller weights (only their ratios matter)"));
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

    /// <summary>Provider fields a target may set next to a virtual key: they change behaviour, never where the credential goes.</summary>
    internal static readonly FrozenSet<string> VirtualKeySafeFields = new[] { "anthropic_beta", "anthropic_version", "openai_beta" }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>
    /// A virtual key's operator-held credential must go only to the host and account the operator configured: a config (inline ones
    /// come from clients) may not point it elsewhere with custom_host or host-shaping provider fields.
    /// </summary>
    private static void RefuseVirtualKeyOverrides(Dictionary<string, JsonElement> fields, Dictionary<string, string> spelling, string path,
        TargetSettings settings, List<ConfigError> errors)
    {
        if (settings.CustomHost is not null)
        {
            var at = fields.ContainsKey("custom_host") ? Join(path, spelling["custom_host"]) : Join(path, spelling["virtual_key"]);
            errors.Add(new ConfigError(at, "custom_host (set here or inherited) cannot be combined with virtual_key: the virtual key's credential goes only to its own host; set custom_host in the virtual-key file"));
        }
        foreach (var key in fields.Keys)
        {
            if (ProviderFieldCatalog.All.Contains(key) && !VirtualKeySafeFields.Contains(key))
            {
                errors.Add(new ConfigError(Join(path, spelling[key]), $"{key} cannot be combined with virtual_key: provider settings come from the virtual key (set them in the virtual-key file)"));
            }
        }
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
                foreach (var cf in c.EnumerateObject())
                {
                    if (!cf.NameEquals("query") && !cf.NameEquals("then"))
                    {
                        errors.Add(new ConfigError(Join(cp, cf.Name), UnknownKey(cf.Name, cf.Name, ConditionKeys)));
                    }
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
        foreach (var key in (string[])["default_input_guardrails", "default_output_guardrails"])
        {
            if (f.ContainsKey(key))
            {
                errors.Add(new ConfigError(Join(path, key), $"{key} is not a config field in Portkey's open-source gateway: send it as the header x-portkey-{key.Replace('_', '-')} (a JSON array of guardrails)"));
            }
        }
        if (GuardrailCompiler.HasHookFields(f))
        {
            // A node's own hooks (full form, then shorthand appended) replace the inherited ones, per side (Portkey §4.5).
            var (before, after) = _guardrails.CompileNode(f, path, errors);
            if (before is not null)
            {
                s = s with { BeforeRequestHooks = before };
            }
            if (after is not null)
            {
                s = s with { AfterRequestHooks = after };
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
                default:
                    errors.Add(new ConfigError(Join(path, p.Name), UnknownKey(p.Name, SnakeKey(p.Name), RetryKeys)));
                    break;
            }
        }
        if (attempts < 0)
        {
            errors.Add(new ConfigError(Join(path, "attempts"), "required"));
            return null;
        }
        return new RetrySettings(Math.Min(attempts, _retry.MaxAttempts), codes, useRetryAfter);
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
                    default:
                        errors.Add(new ConfigError(Join(path, p.Name), UnknownKey(p.Name, SnakeKey(p.Name), CacheKeys)));
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

    /// <summary>Refuses every key of a node that nothing would read: unknown keys, Portkey features this version lacks, and provider fields the provider ignores.</summary>
    private void RefuseUnreadKeys(Dictionary<string, JsonElement> fields, Dictionary<string, string> spelling, string path, string? provider, bool routes,
        List<ConfigError> errors)
    {
        ProviderDescriptor? descriptor = provider is not null && _providers.TryGetProvider(provider, out var d) ? d : null;
        foreach (var key in fields.Keys)
        {
            var written = spelling[key];
            var at = Join(path, written);
            if (HookKeys.Contains(key))
            {
                continue;
            }
            if (NodeKeys.Contains(key))
            {
                // The router calls providers only at leaves and does not pass these down, so on a strategy node they would do nothing.
                if (routes && key is "provider" or "api_key" or "virtual_key")
                {
                    errors.Add(new ConfigError(at, $"a node with a strategy does not call a provider, and its targets do not inherit {key}; set it on each target"));
                }
                continue;
            }
            if (UnsupportedNodeKeys.TryGetValue(key, out var why))
            {
                errors.Add(new ConfigError(at, why));
            }
            else if (ProviderFieldCatalog.All.Contains(key))
            {
                if (routes)
                {
                    errors.Add(new ConfigError(at, $"{key} is a provider field, and a node with a strategy does not call a provider (its targets do not inherit provider fields); set it on each target"));
                }
                else if (descriptor is not null && !ProviderFieldCatalog.IsReadBy(descriptor, key))
                {
                    errors.Add(new ConfigError(at, $"provider '{descriptor.Slug}' does not read {key} (it applies to {string.Join(", ", ProviderFieldCatalog.FamiliesReading(key))})"));
                }
            }
            else if (ProviderFieldCatalog.IsPortkeyOnly(key))
            {
                errors.Add(new ConfigError(at, $"{key} is a Portkey provider field that this version of Switchyard does not use; remove it"));
            }
            else if (NestedHomes.TryGetValue(key, out var home))
            {
                errors.Add(new ConfigError(at, $"unknown key '{written}' here; did you mean {home}?"));
            }
            else
            {
                var candidates = routes || descriptor is null && provider is not null
                    ? NodeKeys
                    : NodeKeys.Concat(descriptor is null ? ProviderFieldCatalog.All : ProviderFieldCatalog.ReadBy(descriptor));
                errors.Add(new ConfigError(at, UnknownKey(written, key, candidates)));
            }
        }
    }

    /// <summary>Refuses credentials and provider fields that cannot go out in an HTTP header or URL, where they end up.</summary>
    /// <remarks>HttpClient refuses to send such a header, which would surface as a 502 that blames the provider for a config mistake.</remarks>
    private static void RefuseUnsendableValues(Dictionary<string, JsonElement> fields, Dictionary<string, string> spelling, string path, List<ConfigError> errors)
    {
        foreach (var (key, value) in fields)
        {
            // vertex_service_account_json is a JSON document (its private key holds line breaks), read by the adapter, never sent as is.
            if (key == "vertex_service_account_json" || key != "api_key" && !ProviderFieldCatalog.All.Contains(key))
            {
                continue;
            }
            var at = Join(path, spelling[key]);
            if (value.ValueKind is JsonValueKind.Object or JsonValueKind.Array && key != "api_key")
            {
                errors.Add(new ConfigError(at, "must be a string"));
            }
            else if (value.ValueKind == JsonValueKind.String && value.GetString() is { } text)
            {
                for (var i = 0; i < text.Length; i++)
                {
                    if (text[i] is < ' ' or > '~')
                    {
                        errors.Add(new ConfigError(at, $"must be printable ASCII, as it is sent to the provider in a header or URL (character U+{(int)text[i]:X4} at position {i})"));
                        break;
                    }
                }
            }
        }
    }

    private static string UnknownKey(string written, string key, IEnumerable<string> candidates) =>
        KeySpelling.Closest(key, candidates) is { } suggestion
            ? $"unknown key '{written}'; did you mean '{suggestion}'?"
            : $"unknown key '{written}': nothing in Switchyard reads it, so it is refused rather than ignored";

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
