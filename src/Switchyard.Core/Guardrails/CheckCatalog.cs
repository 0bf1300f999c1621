using Switchyard.Core.Guardrails.Checks;

namespace Switchyard.Core.Guardrails;

/// <summary>The checks Switchyard can run, by Portkey check id, with what each needs to be compiled.</summary>
internal static class CheckCatalog
{
    private sealed record Entry(Func<CheckParameters, IGuardrailCheck?> Create, bool BeforeOnly, bool FailOnErrorDefault = false);

    private static readonly Dictionary<string, Entry> Entries = new(StringComparer.Ordinal)
    {
        ["regexMatch"] = new(RegexMatchCheck.Create, false),
        ["regexReplace"] = new(RegexReplaceCheck.Create, false),
        ["sentenceCount"] = new(SentenceCountCheck.Create, false),
        ["wordCount"] = new(WordCountCheck.Create, false),
        ["characterCount"] = new(CharacterCountCheck.Create, false),
        ["jsonSchema"] = new(JsonSchemaCheck.Create, false),
        ["jsonKeys"] = new(JsonKeysCheck.Create, false),
        ["contains"] = new(ContainsCheck.Create, false),
        ["validUrls"] = new(ValidUrlsCheck.Create, false),
        ["webhook"] = new(WebhookCheck.Create, false),
        ["log"] = new(LogCheck.Create, false),
        ["containsCode"] = new(ContainsCodeCheck.Create, false),
        ["alluppercase"] = new(LetterCaseCheck.CreateUpper, false),
        ["alllowercase"] = new(LetterCaseCheck.CreateLower, false),
        ["endsWith"] = new(EndsWithCheck.Create, false),
        ["modelWhitelist"] = new(ModelWhitelistCheck.Create, true),
        ["modelwhitelist"] = new(ModelWhitelistCheck.Create, true),
        ["modelRules"] = new(ModelRulesCheck.Create, true),
        ["jwt"] = new(JwtCheck.Create, true, FailOnErrorDefault: true),
        ["requiredMetadataKeys"] = new(RequiredMetadataKeysCheck.Create, true),
        ["allowedRequestTypes"] = new(AllowedRequestTypesCheck.Create, true),
        ["addPrefix"] = new(AddPrefixCheck.Create, true),
        ["notNull"] = new(NotNullCheck.Create, false),
        ["requestParametersCheck"] = new(RequestParametersCheck.Create, true),
        ["inlineImageUrls"] = new(InlineImageUrlsCheck.Create, true),
        ["pii"] = new(PiiCheck.Create, false),
    };

    /// <summary>The function names of every built-in check (after <c>default.</c>).</summary>
    public static IEnumerable<string> Names => Entries.Keys;

    /// <summary>Compiles one check; reports an unknown id, a wrong event or bad parameters through <paramref name="p"/>.</summary>
    public static IGuardrailCheck? Create(string checkId, CheckParameters p, string idPath, out bool failOnErrorDefault)
    {
        failOnErrorDefault = false;
        var dot = checkId.IndexOf('.');
        var plugin = dot < 0 ? "" : checkId[..dot];
        var fn = dot < 0 ? checkId : checkId[(dot + 1)..];
        if (plugin != "default")
        {
            p.ErrorSink.Add(new(idPath, plugin.Length == 0
                ? $"check id '{checkId}' must have the form '<plugin>.<function>', e.g. 'default.regexMatch'"
                : $"check '{checkId}' belongs to the '{plugin}' plugin, which calls an external guardrail service; Switchyard runs only the built-in default.* checks (call your own service with default.webhook)"));
            return null;
        }
        if (!Entries.TryGetValue(fn, out var entry))
        {
            p.ErrorSink.Add(new(idPath, $"unknown check '{checkId}'; available: {string.Join(", ", Entries.Keys.Where(k => k != "modelwhitelist").Select(k => "default." + k))}"));
            return null;
        }
        if (entry.BeforeOnly && p.Event != HookEvent.BeforeRequest)
        {
            p.ErrorSink.Add(new(idPath, $"check '{checkId}' works only on the request: put it in before_request_hooks, input_guardrails or input_mutators"));
            return null;
        }
        failOnErrorDefault = entry.FailOnErrorDefault;
        return entry.Create(p);
    }
}
