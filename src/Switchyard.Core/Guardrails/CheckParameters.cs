using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Switchyard.Core.Configs;
using Switchyard.Core.Guardrails.Http;

namespace Switchyard.Core.Guardrails;

/// <summary>Reads one check's parameters at compile time, reporting each bad value as a config error at its JSON path.</summary>
internal sealed class CheckParameters
{
    private readonly List<ConfigError> _errors;

    public CheckParameters(string checkId, JsonObject values, string path, HookEvent ev, GuardrailServices services, List<ConfigError> errors)
    {
        CheckId = checkId;
        Values = values;
        Path = path;
        Event = ev;
        Services = services;
        _errors = errors;
        ErrorCountAtStart = errors.Count;
    }

    public string CheckId { get; }

    public JsonObject Values { get; }

    /// <summary>The JSON path of the parameters object (<c>before_request_hooks[0].checks[1].parameters</c>).</summary>
    public string Path { get; }

    public HookEvent Event { get; }

    public GuardrailServices Services { get; }

    private int ErrorCountAtStart { get; }

    /// <summary>True when reading the parameters reported no error.</summary>
    public bool Ok => _errors.Count == ErrorCountAtStart;

    public string PathOf(string name) => name.Length == 0 ? Path : Path.Length == 0 ? name : Path + "." + name;

    /// <summary>The error list this reader reports into (shared with readers of nested objects).</summary>
    public List<ConfigError> ErrorSink => _errors;

    public void Error(string name, string message) => _errors.Add(new ConfigError(PathOf(name), message));

    public bool Has(string name) => Values.TryGetPropertyValue(name, out var node) && node is not null;

    public bool Bool(string name, bool @default = false)
    {
        if (!Values.TryGetPropertyValue(name, out var node) || node is null) return @default;
        if (node is JsonValue v && v.TryGetValue<bool>(out var b)) return b;
        Error(name, $"'{name}' must be true or false");
        return @default;
    }

    public string? String(string name, bool required, bool allowEmpty = false)
    {
        if (!Values.TryGetPropertyValue(name, out var node) || node is null)
        {
            if (required) Error(name, $"'{name}' is required for {CheckId}");
            return null;
        }
        if (node is JsonValue v && v.TryGetValue<string>(out var s))
        {
            if (s.Length == 0 && !allowEmpty)
            {
                Error(name, $"'{name}' must not be empty");
                return null;
            }
            return s;
        }
        Error(name, $"'{name}' must be a string");
        return null;
    }

    /// <summary>A number, or <paramref name="default"/> when absent; <paramref name="integer"/> refuses fractions (Number.isInteger).</summary>
    public double? Number(string name, double? @default, bool integer = false, double min = double.MinValue)
    {
        if (!Values.TryGetPropertyValue(name, out var node) || node is null) return @default;
        if (node is JsonValue v && v.TryGetValue<double>(out var d))
        {
            if (integer && Math.Floor(d) != d)
            {
                Error(name, $"'{name}' must be a whole number");
                return @default;
            }
            if (d < min)
            {
                Error(name, $"'{name}' must be at least {min}");
                return @default;
            }
            return d;
        }
        Error(name, $"'{name}' must be a number");
        return @default;
    }

    /// <summary>An array of strings (or, with <paramref name="allowCommaString"/>, a comma-separated string).</summary>
    public List<string>? StringArray(string name, bool required, bool allowCommaString = false, bool allowEmpty = false)
    {
        if (!Values.TryGetPropertyValue(name, out var node) || node is null)
        {
            if (required) Error(name, $"'{name}' is required for {CheckId}");
            return null;
        }
        if (allowCommaString && node is JsonValue sv && sv.TryGetValue<string>(out var csv))
        {
            return [.. csv.Split(',').Select(t => t.Trim()).Where(t => t.Length > 0)];
        }
        if (node is not JsonArray array)
        {
            Error(name, $"'{name}' must be an array of strings");
            return null;
        }
        var list = new List<string>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is JsonValue e && e.TryGetValue<string>(out var s)) list.Add(s);
            else
            {
                _errors.Add(new ConfigError($"{PathOf(name)}[{i}]", $"'{name}' must contain only strings"));
                return null;
            }
        }
        if (list.Count == 0 && !allowEmpty)
        {
            Error(name, $"'{name}' must not be empty");
            return null;
        }
        return list;
    }

    public JsonObject? Object(string name, bool required)
    {
        if (!Values.TryGetPropertyValue(name, out var node) || node is null)
        {
            if (required) Error(name, $"'{name}' is required for {CheckId}");
            return null;
        }
        if (node is JsonObject o) return o;
        Error(name, $"'{name}' must be an object");
        return null;
    }

    /// <summary>One of <paramref name="allowed"/>; absent is an error when <paramref name="required"/>.</summary>
    public string? Choice(string name, bool required, params string[] allowed)
    {
        var value = String(name, required);
        if (value is null) return null;
        if (Array.IndexOf(allowed, value) >= 0) return value;
        Error(name, $"'{name}' must be one of: {string.Join(", ", allowed)}");
        return null;
    }

    /// <summary>Compiles a configured pattern once, with the match timeout that stops catastrophic backtracking.</summary>
    public Regex? Regex(string name, string pattern, RegexOptions options = RegexOptions.None)
    {
        try
        {
            return new Regex(pattern, options | RegexOptions.CultureInvariant, Services.RegexTimeout);
        }
        catch (ArgumentException ex)
        {
            Error(name, $"'{name}' is not a valid regular expression: {ex.Message}");
            return null;
        }
    }

    /// <summary>An outbound URL checked against the SSRF rules.</summary>
    public Uri? Url(string name, bool required)
    {
        var text = String(name, required);
        if (text is null) return null;
        if (GuardedUrl.TryCreate(Services.Hosts, text, out var uri, out var error)) return uri;
        Error(name, $"'{name}' is refused: {error}");
        return null;
    }

    /// <summary>Extra request headers: an object of strings, or a JSON string holding one (Portkey accepts both).</summary>
    public List<KeyValuePair<string, string>> Headers(string name)
    {
        var result = new List<KeyValuePair<string, string>>();
        if (!Values.TryGetPropertyValue(name, out var node) || node is null) return result;
        var obj = node as JsonObject;
        if (obj is null && node is JsonValue v && v.TryGetValue<string>(out var text))
        {
            try
            {
                obj = JsonNode.Parse(text) as JsonObject;
            }
            catch (System.Text.Json.JsonException)
            {
                obj = null;
            }
        }
        if (obj is null)
        {
            Error(name, $"'{name}' must be an object of header names to values, or a JSON string of one");
            return result;
        }
        foreach (var (key, value) in obj)
        {
            if (value is JsonValue hv && hv.TryGetValue<string>(out var s) && !s.Any(char.IsControl) && key.Length > 0 && !key.Any(c => char.IsControl(c) || c == ':' || char.IsWhiteSpace(c)))
                result.Add(new(key, s));
            else
            {
                Error(name, $"header '{key}' must have a string value without control characters");
            }
        }
        return result;
    }
}
