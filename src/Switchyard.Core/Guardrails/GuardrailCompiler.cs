using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Configs;

namespace Switchyard.Core.Guardrails;

/// <summary>Turns the hook parts of a config (full form and shorthand) into compiled, immutable hooks.</summary>
/// <remarks>
/// Stricter than Portkey, which accepts almost anything and fails (or silently passes) per request: an unknown or
/// partner check, a bad parameter, an invalid regex or schema, a refused URL or an async mutator is a config error
/// reported with its JSON path, so a guardrail that cannot work never goes live.
/// </remarks>
public sealed class GuardrailCompiler
{
    /// <summary>Shorthand keys that configure the hook itself; every other key is a check.</summary>
    private static readonly HashSet<string> ReservedShorthandKeys =
        ["deny", "on_fail", "on_success", "async", "id", "type", "guardrail_version_id", "sequential"];

    /// <summary>The config fields this compiler reads (snake_case).</summary>
    public static readonly IReadOnlyList<string> HookFields =
        ["before_request_hooks", "after_request_hooks", "input_guardrails", "output_guardrails", "input_mutators", "output_mutators"];

    private readonly GuardrailServices _services;

    public GuardrailCompiler(GuardrailServices services) => _services = services ?? throw new ArgumentNullException(nameof(services));

    /// <summary>True when the node sets any hook field.</summary>
    public static bool HasHookFields(IReadOnlyDictionary<string, JsonElement> fieldsSnakeCased) => HookFields.Any(fieldsSnakeCased.ContainsKey);

    /// <summary>
    /// The node's own hooks, in Portkey's order: full-form hooks, then shorthand guardrails, then shorthand mutators.
    /// A side is null when the node defines none (so the caller inherits), and an empty list when it defines an empty array.
    /// </summary>
    public (IReadOnlyList<HookDefinition>? Before, IReadOnlyList<HookDefinition>? After) CompileNode(
        Dictionary<string, JsonElement> fieldsSnakeCased, string path, List<ConfigError> errors)
    {
        List<HookDefinition>? before = null, after = null;
        Collect(ref before, fieldsSnakeCased, "before_request_hooks", path, HookEvent.BeforeRequest, Form.Full, HookKind.Guardrail, errors);
        Collect(ref after, fieldsSnakeCased, "after_request_hooks", path, HookEvent.AfterRequest, Form.Full, HookKind.Guardrail, errors);
        Collect(ref before, fieldsSnakeCased, "input_guardrails", path, HookEvent.BeforeRequest, Form.Shorthand, HookKind.Guardrail, errors);
        Collect(ref after, fieldsSnakeCased, "output_guardrails", path, HookEvent.AfterRequest, Form.Shorthand, HookKind.Guardrail, errors);
        Collect(ref before, fieldsSnakeCased, "input_mutators", path, HookEvent.BeforeRequest, Form.Shorthand, HookKind.Mutator, errors);
        Collect(ref after, fieldsSnakeCased, "output_mutators", path, HookEvent.AfterRequest, Form.Shorthand, HookKind.Mutator, errors);
        return (before, after);
    }

    /// <summary>Compiles an <c>x-portkey-default-input-guardrails</c> / <c>-output-guardrails</c> value (a shorthand array).</summary>
    /// <param name="source">Where the value came from (the header name); used as the root of error paths.</param>
    public IReadOnlyList<HookDefinition>? CompileDefaultShorthand(JsonElement array, HookEvent ev, string source, List<ConfigError> errors)
    {
        var node = ToNode(array);
        var before = errors.Count;
        var hooks = CompileArray(node, source, ev, Form.Shorthand, HookKind.Guardrail, errors);
        return errors.Count > before ? null : hooks;
    }

    private enum Form
    {
        Full,
        Shorthand,
    }

    private void Collect(ref List<HookDefinition>? target, Dictionary<string, JsonElement> fields, string key, string path, HookEvent ev, Form form,
        HookKind kind, List<ConfigError> errors)
    {
        if (!fields.TryGetValue(key, out var element)) return;
        var hooks = CompileArray(ToNode(element), Join(path, key), ev, form, kind, errors);
        if (hooks is null) return;
        target ??= [];
        target.AddRange(hooks);
    }

    private List<HookDefinition>? CompileArray(JsonNode? node, string path, HookEvent ev, Form form, HookKind kind, List<ConfigError> errors)
    {
        if (node is null) return null;
        if (node is not JsonArray array)
        {
            errors.Add(new ConfigError(path, "must be an array of hooks"));
            return null;
        }
        var hooks = new List<HookDefinition>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var itemPath = $"{path}[{i}]";
            var hook = form == Form.Full
                ? CompileFullHook(array[i], itemPath, ev, errors)
                : CompileShorthandHook(array[i], itemPath, ev, kind, errors);
            if (hook is not null) hooks.Add(hook);
        }
        return hooks;
    }

    private HookDefinition? CompileFullHook(JsonNode? node, string path, HookEvent ev, List<ConfigError> errors)
    {
        if (node is not JsonObject raw)
        {
            errors.Add(new ConfigError(path, "a hook must be an object {type, id, checks, …}"));
            return null;
        }
        var hook = SnakeKeys(raw);
        var before = errors.Count;
        HookKind? kind = ContentLocator.ChatText(hook["type"]) switch
        {
            "guardrail" => HookKind.Guardrail,
            "mutator" => HookKind.Mutator,
            _ => null,
        };
        if (kind is null) errors.Add(new ConfigError(Join(path, "type"), "'type' must be 'guardrail' or 'mutator'"));
        var props = ReadHookProperties(hook, path, kind ?? HookKind.Guardrail, errors);
        var checks = new List<CheckDefinition>();
        if (hook["checks"] is not JsonArray checkArray)
        {
            errors.Add(new ConfigError(Join(path, "checks"), "'checks' must be an array of {id, parameters, is_enabled}"));
        }
        else
        {
            for (var i = 0; i < checkArray.Count; i++)
            {
                var checkPath = $"{Join(path, "checks")}[{i}]";
                if (checkArray[i] is not JsonObject check)
                {
                    errors.Add(new ConfigError(checkPath, "a check must be an object {id, parameters, is_enabled}"));
                    continue;
                }
                var id = ContentLocator.ChatText(check["id"]);
                if (string.IsNullOrEmpty(id))
                {
                    errors.Add(new ConfigError(Join(checkPath, "id"), "a check needs an 'id' such as 'default.regexMatch'"));
                    continue;
                }
                var parameters = check["parameters"];
                if (parameters is not null and not JsonObject)
                {
                    errors.Add(new ConfigError(Join(checkPath, "parameters"), "'parameters' must be an object"));
                    continue;
                }
                var enabledNode = check["is_enabled"] ?? check["isEnabled"];
                var compiled = CompileCheck(id, (JsonObject?)parameters ?? [], Join(checkPath, "parameters"), Join(checkPath, "id"),
                    enabledNode, Join(checkPath, "is_enabled"), ev, errors);
                if (compiled is not null) checks.Add(compiled);
            }
        }
        if (errors.Count > before || kind is null) return null;
        return new HookDefinition
        {
            Id = props.Id ?? GeneratedId(ev),
            Kind = kind.Value,
            Deny = props.Deny,
            Async = props.Async,
            Sequential = props.Sequential,
            OnFail = props.OnFail,
            OnSuccess = props.OnSuccess,
            Checks = checks,
        };
    }

    private HookDefinition? CompileShorthandHook(JsonNode? node, string path, HookEvent ev, HookKind kind, List<ConfigError> errors)
    {
        if (node is JsonValue v && v.TryGetValue<string>(out var guardrailId))
        {
            errors.Add(new ConfigError(path, $"'{guardrailId}' is a guardrail ID from Portkey's control plane, which Switchyard cannot resolve; write the checks inline, e.g. {{\"default.regexMatch\": {{\"rule\": \"…\"}}, \"deny\": true}}"));
            return null;
        }
        if (node is not JsonObject raw)
        {
            errors.Add(new ConfigError(path, "a guardrail must be an object whose keys are checks (plus deny, on_fail, on_success, async, id, sequential)"));
            return null;
        }
        var before = errors.Count;
        // Reserved keys may be written in camelCase (onFail); check keys are kept verbatim.
        var hookProps = new JsonObject();
        var checkEntries = new List<KeyValuePair<string, JsonNode?>>();
        foreach (var (key, value) in raw)
        {
            var snake = ConfigCompiler.SnakeKey(key);
            if (ReservedShorthandKeys.Contains(snake)) hookProps[snake] = value?.DeepClone();
            else checkEntries.Add(new(key, value));
        }
        if (hookProps["type"] is { } typeNode)
        {
            switch (ContentLocator.ChatText(typeNode))
            {
                case "guardrail": kind = HookKind.Guardrail; break;
                case "mutator": kind = HookKind.Mutator; break;
                default: errors.Add(new ConfigError(Join(path, "type"), "'type' must be 'guardrail' or 'mutator'")); break;
            }
        }
        var props = ReadHookProperties(hookProps, path, kind, errors);
        if (checkEntries.Count == 0)
        {
            errors.Add(new ConfigError(path, props.Id is null
                ? "the guardrail has no checks; add one, e.g. {\"default.regexMatch\": {\"rule\": \"…\"}}"
                : $"the guardrail '{props.Id}' has no checks: guardrail IDs from Portkey's control plane cannot be resolved by Switchyard; write the checks inline"));
        }
        var checks = new List<CheckDefinition>();
        foreach (var (key, value) in checkEntries)
        {
            var checkPath = Join(path, key);
            if (value is not JsonObject parameters)
            {
                errors.Add(new ConfigError(checkPath, $"the parameters of check '{key}' must be an object (use {{}} for none)"));
                continue;
            }
            var id = ContentLocator.ChatText(parameters["id"]) ?? key;
            if (!id.Contains('.', StringComparison.Ordinal)) id = "default." + id;
            var compiled = CompileCheck(id, parameters, checkPath, checkPath, parameters["is_enabled"] ?? parameters["isEnabled"],
                Join(checkPath, "is_enabled"), ev, errors);
            if (compiled is not null) checks.Add(compiled);
        }
        if (errors.Count > before) return null;
        return new HookDefinition
        {
            Id = props.Id ?? GeneratedId(ev),
            Kind = kind,
            Deny = props.Deny,
            Async = props.Async,
            Sequential = props.Sequential,
            OnFail = props.OnFail,
            OnSuccess = props.OnSuccess,
            Checks = checks,
        };
    }

    private CheckDefinition? CompileCheck(string id, JsonObject parameters, string parametersPath, string idPath, JsonNode? enabledNode,
        string enabledPath, HookEvent ev, List<ConfigError> errors)
    {
        var before = errors.Count;
        var isEnabled = true;
        if (enabledNode is not null)
        {
            if (enabledNode is JsonValue enabledValue && enabledValue.TryGetValue<bool>(out var enabled)) isEnabled = enabled;
            else errors.Add(new ConfigError(enabledPath, "'is_enabled' must be true or false"));
        }
        // The check keeps its own copy: the config's JSON may be reused or mutated by whoever owns it.
        var copy = HookContext.Materialize((JsonObject)parameters.DeepClone());
        var reader = new CheckParameters(id, copy, parametersPath, ev, _services, errors);
        var check = CheckCatalog.Create(id, reader, idPath, out var failOnErrorDefault);
        var failOnError = reader.Bool("failOnError", failOnErrorDefault);
        if (check is null || errors.Count > before) return null;
        return new CheckDefinition
        {
            Id = id,
            Parameters = copy,
            IsEnabled = isEnabled,
            FailOnError = failOnError,
            Check = check,
        };
    }

    private sealed record HookProperties(string? Id, bool Deny, bool Async, bool Sequential, JsonObject? OnFail, JsonObject? OnSuccess);

    private static HookProperties ReadHookProperties(JsonObject hook, string path, HookKind kind, List<ConfigError> errors)
    {
        string? id = null;
        if (hook["id"] is { } idNode)
        {
            id = ContentLocator.ChatText(idNode);
            if (string.IsNullOrEmpty(id))
            {
                errors.Add(new ConfigError(Join(path, "id"), "'id' must be a non-empty string"));
                id = null;
            }
        }
        var deny = Flag(hook, "deny", path, errors);
        var isAsync = Flag(hook, "async", path, errors);
        var sequential = Flag(hook, "sequential", path, errors);
        if (isAsync && kind == HookKind.Mutator)
        {
            errors.Add(new ConfigError(Join(path, "async"), "a mutator cannot be async: it must finish before the body it rewrites is used"));
        }
        if (isAsync && deny)
        {
            errors.Add(new ConfigError(Join(path, "deny"), "an async hook runs after the response and cannot deny it; drop 'deny' or 'async'"));
        }
        var onFail = Feedback(hook, "on_fail", path, errors);
        var onSuccess = Feedback(hook, "on_success", path, errors);
        return new HookProperties(id, deny, isAsync, sequential, onFail, onSuccess);
    }

    private static bool Flag(JsonObject hook, string key, string path, List<ConfigError> errors)
    {
        var node = hook[key];
        if (node is null) return false;
        if (node is JsonValue v && v.TryGetValue<bool>(out var b)) return b;
        errors.Add(new ConfigError(Join(path, key), $"'{key}' must be true or false"));
        return false;
    }

    private static JsonObject? Feedback(JsonObject hook, string key, string path, List<ConfigError> errors)
    {
        var node = hook[key];
        if (node is null) return null;
        if (node is not JsonObject obj)
        {
            errors.Add(new ConfigError(Join(path, key), $"'{key}' must be an object such as {{\"feedback\": {{\"value\": 1, \"weight\": 1}}}}"));
            return null;
        }
        var copy = (JsonObject)obj.DeepClone();
        if (copy["feedback"] is { } feedback && feedback is not JsonObject)
        {
            errors.Add(new ConfigError(Join(Join(path, key), "feedback"), "'feedback' must be an object {value, weight, metadata}"));
            return null;
        }
        if (copy["feedback"] is JsonObject f && f["metadata"] is { } metadata && metadata is not JsonObject)
        {
            errors.Add(new ConfigError(Join(Join(path, key), "feedback.metadata"), "'metadata' must be an object"));
            return null;
        }
        return HookContext.Materialize(copy);
    }

    /// <summary>Hook-level keys in snake_case (Portkey camel-cases them internally, so both spellings are accepted); values untouched.</summary>
    private static JsonObject SnakeKeys(JsonObject raw)
    {
        var result = new JsonObject();
        foreach (var (key, value) in raw)
        {
            var snake = key == "checks" ? key : ConfigCompiler.SnakeKey(key);
            if (!result.ContainsKey(snake)) result[snake] = value?.DeepClone();
        }
        return result;
    }

    /// <summary>Portkey's generated id: <c>input_guardrail_</c> / <c>output_guardrail_</c> plus three base-36 characters.</summary>
    private static string GeneratedId(HookEvent ev)
    {
        const string alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
        var sb = new StringBuilder(ev == HookEvent.BeforeRequest ? "input_guardrail_" : "output_guardrail_");
        for (var i = 0; i < 3; i++) sb.Append(alphabet[Random.Shared.Next(alphabet.Length)]);
        return sb.ToString();
    }

    private static JsonNode? ToNode(JsonElement element) =>
        element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? null : JsonNode.Parse(element.GetRawText());

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;
}
