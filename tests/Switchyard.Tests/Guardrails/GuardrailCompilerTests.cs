using System.Text.Json;
using System.Text.RegularExpressions;
using Switchyard.Core.Configs;
using Switchyard.Core.Guardrails;
using Xunit;
using static Switchyard.Tests.Guardrails.GuardrailKit;

namespace Switchyard.Tests.Guardrails;

public sealed class GuardrailCompilerTests
{
    [Fact]
    public void Full_form_hooks_compile_with_all_properties_in_either_spelling()
    {
        var (before, after) = CompileOk("""
            {"beforeRequestHooks":[{"type":"guardrail","id":"g1","deny":true,"sequential":true,
               "onFail":{"feedback":{"value":-1,"weight":1,"metadata":{"team":"a"}}},
               "checks":[{"id":"default.regexMatch","parameters":{"rule":"x"}},{"id":"default.wordCount","parameters":{"maxWords":10},"isEnabled":false}]}],
             "after_request_hooks":[{"type":"mutator","id":"m1","checks":[{"id":"default.regexReplace","parameters":{"rule":"\\d"}}]}]}
            """);
        var g = Assert.Single(before!);
        Assert.Equal("g1", g.Id);
        Assert.Equal(HookKind.Guardrail, g.Kind);
        Assert.True(g.Deny);
        Assert.True(g.Sequential);
        Assert.False(g.Async);
        Assert.Equal(-1, g.OnFail!["feedback"]!["value"]!.GetValue<int>());
        Assert.Equal(["default.regexMatch", "default.wordCount"], g.Checks.Select(c => c.Id));
        Assert.True(g.Checks[0].IsEnabled);
        Assert.False(g.Checks[1].IsEnabled);
        Assert.Equal("x", Str(g.Checks[0].Parameters["rule"]));
        var m = Assert.Single(after!);
        Assert.Equal(HookKind.Mutator, m.Kind);
    }

    [Fact]
    public void Shorthand_turns_reserved_keys_into_hook_properties_and_other_keys_into_checks()
    {
        var (before, after) = CompileOk("""
            {"input_guardrails":[{"id":"pii-guard","deny":true,"on_success":{"feedback":{"value":1}},
                "regexMatch":{"rule":"a","not":true},"default.wordCount":{"maxWords":5},"anything":{"id":"contains","words":["x"],"operator":"any"},
                "off":{"id":"default.notNull","is_enabled":false}}],
             "output_guardrails":[{"notNull":{}}]}
            """);
        var hook = Assert.Single(before!);
        Assert.Equal("pii-guard", hook.Id);
        Assert.True(hook.Deny);
        Assert.NotNull(hook.OnSuccess);
        Assert.Equal(["default.regexMatch", "default.wordCount", "default.contains", "default.notNull"], hook.Checks.Select(c => c.Id));
        Assert.True(hook.Checks[0].Parameters["not"]!.GetValue<bool>());
        Assert.False(hook.Checks[3].IsEnabled);
        var output = Assert.Single(after!);
        Assert.Matches(new Regex("^output_guardrail_[0-9a-z]{3}$"), output.Id);
        Assert.Equal(HookKind.Guardrail, output.Kind);
    }

    [Fact]
    public void Hooks_are_appended_in_portkeys_order_and_generated_ids_say_input()
    {
        var (before, _) = CompileOk("""
            {"input_mutators":[{"regexReplace":{"rule":"x"}}],
             "input_guardrails":[{"notNull":{}}],
             "before_request_hooks":[{"type":"guardrail","id":"full","checks":[]}]}
            """);
        Assert.Equal(3, before!.Count);
        Assert.Equal("full", before[0].Id);
        Assert.Equal(HookKind.Guardrail, before[1].Kind);
        Assert.Matches("^input_guardrail_", before[1].Id);
        Assert.Equal(HookKind.Mutator, before[2].Kind);
    }

    [Fact]
    public void No_hook_fields_give_null_and_empty_arrays_give_empty_lists()
    {
        Assert.Equal((null, null), CompileOk("""{"provider":"openai"}"""));
        var (before, after) = CompileOk("""{"before_request_hooks":[],"output_guardrails":[]}""");
        Assert.Empty(before!);
        Assert.Empty(after!);
        Assert.True(GuardrailCompiler.HasHookFields(Fields("""{"inputGuardrails":[]}""")));
    }

    [Theory]
    [InlineData("""{"input_guardrails":[{"nope":{}}]}""", "input_guardrails[0].nope", "unknown check 'default.nope'")]
    [InlineData("""{"before_request_hooks":[{"type":"guardrail","checks":[{"id":"portkey.pii","parameters":{}}]}]}""", "before_request_hooks[0].checks[0].id", "'portkey' plugin")]
    [InlineData("""{"input_guardrails":[{"regexMatch":{}}]}""", "input_guardrails[0].regexMatch.rule", "'rule' is required")]
    [InlineData("""{"input_guardrails":[{"regexMatch":{"rule":"(unclosed"}}]}""", "input_guardrails[0].regexMatch.rule", "not a valid regular expression")]
    [InlineData("""{"after_request_hooks":[{"type":"guardrail","checks":[{"id":"default.jsonSchema","parameters":{"schema":{"type":"strng"}}}]}]}""", "after_request_hooks[0].checks[0].parameters.schema", "not a valid JSON schema")]
    [InlineData("""{"input_guardrails":[{"webhook":{"webhookURL":"http://10.1.2.3/hook"}}]}""", "input_guardrails[0].webhook.webhookURL", "private")]
    [InlineData("""{"output_guardrails":[{"log":{"logURL":"http://169.254.169.254/x"}}]}""", "output_guardrails[0].log.logURL", "metadata")]
    [InlineData("""{"input_mutators":[{"async":true,"regexReplace":{"rule":"x"}}]}""", "input_mutators[0].async", "mutator cannot be async")]
    [InlineData("""{"before_request_hooks":[{"type":"mutator","async":true,"checks":[]}]}""", "before_request_hooks[0].async", "mutator cannot be async")]
    [InlineData("""{"input_guardrails":["pg-guard-123"]}""", "input_guardrails[0]", "control plane")]
    [InlineData("""{"input_guardrails":[{"id":"pg-guard-123"}]}""", "input_guardrails[0]", "control plane")]
    [InlineData("""{"input_guardrails":{"regexMatch":{"rule":"x"}}}""", "input_guardrails", "must be an array")]
    [InlineData("""{"before_request_hooks":[{"type":"filter","checks":[]}]}""", "before_request_hooks[0].type", "'guardrail' or 'mutator'")]
    [InlineData("""{"output_guardrails":[{"modelWhitelist":{"models":["a"]}}]}""", "output_guardrails[0].modelWhitelist", "only on the request")]
    [InlineData("""{"input_guardrails":[{"wordCount":{"minWords":1.5}}]}""", "input_guardrails[0].wordCount.minWords", "whole number")]
    [InlineData("""{"input_guardrails":[{"contains":{"words":["a"]}}]}""", "input_guardrails[0].contains.operator", "'operator' is required")]
    [InlineData("""{"input_guardrails":[{"contains":{"words":["a"],"operator":"some"}}]}""", "input_guardrails[0].contains.operator", "one of")]
    [InlineData("""{"input_guardrails":[{"webhook":{"webhookURL":"http://127.0.0.1:9/h","headers":"{not json"}}]}""", "input_guardrails[0].webhook.headers", "header")]
    [InlineData("""{"input_guardrails":[{"pii":{"categories":["email","dna"]}}]}""", "input_guardrails[0].pii.categories", "unknown PII category 'dna'")]
    [InlineData("""{"input_guardrails":[{"notNull":{"is_enabled":"yes"}}]}""", "input_guardrails[0].notNull.is_enabled", "true or false")]
    [InlineData("""{"input_guardrails":[{"notNull":"on"}]}""", "input_guardrails[0].notNull", "must be an object")]
    [InlineData("""{"input_guardrails":[{"jwt":{}}]}""", "input_guardrails[0].jwt.jwksUri", "'jwksUri' or 'jwks'")]
    [InlineData("""{"input_guardrails":[{"jwt":{"jwks":{"keys":[]}}}]}""", "input_guardrails[0].jwt.jwks", "no usable key")]
    [InlineData("""{"input_guardrails":[{"jwt":{"jwksUri":"https://idp.example.com/jwks","maxTokenAge":"forever"}}]}""", "input_guardrails[0].jwt.maxTokenAge", "duration")]
    [InlineData("""{"input_guardrails":[{"allowedRequestTypes":{"allowedTypes":["embed"],"blockedTypes":["embed"]}}]}""", "input_guardrails[0].allowedRequestTypes.blockedTypes", "both")]
    [InlineData("""{"input_guardrails":[{"modelRules":{"rules":{"metadata":{"tier":{"pro":"large"}}}}}]}""", "input_guardrails[0].modelRules.rules.metadata.tier.pro", "array")]
    [InlineData("""{"before_request_hooks":[{"type":"guardrail","deny":"yes","checks":[]}]}""", "before_request_hooks[0].deny", "true or false")]
    [InlineData("""{"before_request_hooks":[{"type":"guardrail","checks":[{"parameters":{}}]}]}""", "before_request_hooks[0].checks[0].id", "needs an 'id'")]
    [InlineData("""{"input_guardrails":[{"regexReplace":{"rule":"/x/q"}}]}""", "input_guardrails[0].regexReplace.rule", "Invalid regex flags")]
    public void Invalid_hooks_are_config_errors_with_their_path(string config, string path, string message)
    {
        var errors = Errors(config);
        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Paths_are_prefixed_with_the_nodes_path()
    {
        var errors = new List<ConfigError>();
        new GuardrailCompiler(Services()).CompileNode(Fields("""{"input_guardrails":[{"regexMatch":{}}]}"""), "targets[1]", errors);
        Assert.Equal("targets[1].input_guardrails[0].regexMatch.rule", Assert.Single(errors).Path);
    }

    [Fact]
    public void A_node_with_errors_still_reports_every_problem()
    {
        var errors = Errors("""{"input_guardrails":[{"regexMatch":{}}],"output_guardrails":[{"nope":{}}]}""");
        Assert.Equal(2, errors.Count);
    }

    [Fact]
    public void Default_guardrail_headers_compile_as_shorthand()
    {
        var compiler = new GuardrailCompiler(Services());
        var errors = new List<ConfigError>();
        var hooks = compiler.CompileDefaultShorthand(JsonDocument.Parse("""[{"deny":true,"wordCount":{"maxWords":100}}]""").RootElement,
            HookEvent.BeforeRequest, "x-portkey-default-input-guardrails", errors);
        Assert.Empty(errors);
        var hook = Assert.Single(hooks!);
        Assert.True(hook.Deny);
        Assert.Matches("^input_guardrail_", hook.Id);

        var bad = compiler.CompileDefaultShorthand(JsonDocument.Parse("""[{"regexMatch":{}}]""").RootElement,
            HookEvent.AfterRequest, "x-portkey-default-output-guardrails", errors);
        Assert.Null(bad);
        Assert.Equal("x-portkey-default-output-guardrails[0].regexMatch.rule", Assert.Single(errors).Path);
    }

    [Fact]
    public void Every_portkey_default_check_and_pii_compiles()
    {
        var (before, after) = CompileOk("""
            {"input_guardrails":[{
              "regexMatch":{"rule":"x"},"regexReplace":{"rule":"x"},"sentenceCount":{},"wordCount":{},"characterCount":{},
              "jsonSchema":{"schema":{"type":"object"}},"jsonKeys":{"keys":["a"],"operator":"any"},"contains":{"words":["a"],"operator":"all"},
              "validUrls":{},"webhook":{"webhookURL":"http://127.0.0.1:1/h"},"log":{"logURL":"http://localhost:1/l"},
              "containsCode":{"format":"C#"},"alluppercase":{},"alllowercase":{},"endsWith":{"suffix":"."},
              "modelWhitelist":{"models":["m"]},"modelwhitelist":{"id":"modelwhitelist","models":["m"]},"modelRules":{"rules":{"defaults":["m"]}},
              "jwt":{"jwksUri":"https://idp.example.com/.well-known/jwks.json"},"requiredMetadataKeys":{"metadataKeys":["a"],"operator":"all"},
              "allowedRequestTypes":{"allowedTypes":["chatComplete"]},"addPrefix":{"prefix":"p"},"notNull":{},
              "requestParametersCheck":{"params":{"blockedKeys":["n"]}},"inlineImageUrls":{},"pii":{}}]}
            """);
        Assert.Equal(26, before![0].Checks.Count);
        Assert.Null(after);
    }
}
