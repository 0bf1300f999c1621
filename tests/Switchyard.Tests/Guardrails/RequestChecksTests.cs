using Switchyard.Core.Guardrails;
using Xunit;
using static Switchyard.Tests.Guardrails.GuardrailKit;

namespace Switchyard.Tests.Guardrails;

public sealed class RequestChecksTests
{
    private const HookEvent Before = HookEvent.BeforeRequest;

    [Theory]
    [InlineData("default.modelWhitelist")]
    [InlineData("default.modelwhitelist")]
    public async Task ModelWhitelist_allows_listed_models_and_inverts(string id)
    {
        var check = Check(id, """{"models":["gpt-4o","gpt-4o-mini"]}""");
        Assert.True((await check.RunAsync(Chat("hi", model: "gpt-4o-mini"), Before)).Verdict);
        var refused = await check.RunAsync(Chat("hi", model: "o1"), Before);
        Assert.False(refused.Verdict);
        Assert.Equal("o1", Str(refused.Data!["requestedModel"]));
        Assert.True((await Check(id, """{"models":["o1"],"not":true}""").RunAsync(Chat("hi", model: "gpt-4o"), Before)).Verdict);
        Assert.NotNull((await check.RunAsync(Context("""{"messages":[{"role":"user","content":"x"}]}"""), Before)).Error);
    }

    [Fact]
    public async Task ModelRules_uses_matching_metadata_rules_else_defaults()
    {
        var check = Check("default.modelRules", """
            {"rules":{"defaults":["small"],"metadata":{"tier":{"pro":["large","small"]},"team":{"research":["o1"]}}}}
            """);
        Assert.True((await check.RunAsync(Chat("x", model: "large", metadataJson: """{"tier":"pro"}"""), Before)).Verdict);
        Assert.True((await check.RunAsync(Chat("x", model: "o1", metadataJson: """{"tier":"pro","team":"research"}"""), Before)).Verdict);
        Assert.False((await check.RunAsync(Chat("x", model: "large"), Before)).Verdict);
        var defaults = await check.RunAsync(Chat("x", model: "small"), Before);
        Assert.True(defaults.Verdict);
        Assert.Contains("using default models", Str(defaults.Data!["explanation"]));
        var inverted = Check("default.modelRules", """{"rules":{"defaults":["blocked"]},"not":true}""");
        Assert.False((await inverted.RunAsync(Chat("x", model: "blocked"), Before)).Verdict);
        Assert.True((await inverted.RunAsync(Chat("x", model: "fine"), Before)).Verdict);
        var noDefaults = Check("default.modelRules", """{"rules":{"metadata":{"tier":{"pro":["large"]}}}}""");
        Assert.Equal("No allowed models resolved from rules", (await noDefaults.RunAsync(Chat("x", model: "large"), Before)).Error!.Message);
    }

    [Fact]
    public async Task RequiredMetadataKeys_operators_and_not()
    {
        var all = Check("default.requiredMetadataKeys", """{"metadataKeys":["user","team"],"operator":"all"}""");
        Assert.True((await all.RunAsync(Chat("x", metadataJson: """{"user":"u","team":"t"}"""), Before)).Verdict);
        var missing = await all.RunAsync(Chat("x", metadataJson: """{"user":"u"}"""), Before);
        Assert.False(missing.Verdict);
        Assert.Equal("team", Str(missing.Data!["missing_metadata_keys"]![0]));
        var any = Check("default.requiredMetadataKeys", """{"metadataKeys":["user","team"],"operator":"any"}""");
        Assert.True((await any.RunAsync(Chat("x", metadataJson: """{"team":"t"}"""), Before)).Verdict);
        var none = Check("default.requiredMetadataKeys", """{"metadataKeys":["debug"],"operator":"none"}""");
        Assert.False((await none.RunAsync(Chat("x", metadataJson: """{"debug":"1"}"""), Before)).Verdict);
        var inverted = Check("default.requiredMetadataKeys", """{"metadataKeys":["user"],"operator":"all","not":true}""");
        Assert.False((await inverted.RunAsync(Chat("x", metadataJson: """{"user":"u"}"""), Before)).Verdict);
    }

    [Fact]
    public async Task AllowedRequestTypes_allow_block_combined_and_metadata_fallback()
    {
        Assert.True((await Check("default.allowedRequestTypes", """{"allowedTypes":["chatComplete"]}""").RunAsync(Chat("x"), Before)).Verdict);
        Assert.False((await Check("default.allowedRequestTypes", """{"allowedTypes":"embed, complete"}""").RunAsync(Chat("x"), Before)).Verdict);
        var blocked = await Check("default.allowedRequestTypes", """{"blockedTypes":["chatComplete"]}""").RunAsync(Chat("x"), Before);
        Assert.False(blocked.Verdict);
        Assert.Equal("blocklist", Str(blocked.Data!["mode"]));
        var open = Check("default.allowedRequestTypes", "{}");
        Assert.True((await open.RunAsync(Chat("x"), Before)).Verdict);
        var fromMetadata = await open.RunAsync(Chat("x", metadataJson: """{"blocked_endpoints":"chatComplete,embed"}"""), Before);
        Assert.False(fromMetadata.Verdict);
        Assert.Equal("metadata", Str(fromMetadata.Data!["source"]));
        var conflict = await open.RunAsync(Chat("x", metadataJson: """{"supported_endpoints":["embed"],"blocked_endpoints":["embed"]}"""), Before);
        Assert.NotNull(conflict.Error);
    }

    [Fact]
    public async Task AddPrefix_prefixes_the_last_user_message()
    {
        var outcome = await Check("default.addPrefix", """{"prefix":"Be brief. "}""").RunAsync(Chat("What is DNS?"), Before);
        Assert.True(outcome.Verdict);
        Assert.True(outcome.Transformed);
        Assert.Equal("Be brief. What is DNS?", Str(outcome.TransformedRequest!["messages"]![1]!["content"]));
    }

    [Fact]
    public async Task AddPrefix_system_role_new_message_and_onlyIfEmpty()
    {
        var system = await Check("default.addPrefix", """{"prefix":"RULES. ","applyToRole":"system"}""").RunAsync(Chat("q"), Before);
        Assert.Equal("RULES. You are terse.", Str(system.TransformedRequest!["messages"]![0]!["content"]));

        var separate = await Check("default.addPrefix", """{"prefix":"extra","applyToRole":"system","addToExisting":false}""").RunAsync(Chat("q"), Before);
        var messages = separate.TransformedRequest!["messages"]!.AsArray();
        Assert.Equal(3, messages.Count);
        Assert.Equal("extra", Str(messages[0]!["content"]));

        var onlyIfEmpty = await Check("default.addPrefix", """{"prefix":"x","applyToRole":"system","onlyIfEmpty":true}""").RunAsync(Chat("q"), Before);
        Assert.False(onlyIfEmpty.Transformed);

        var noRole = Context("""{"model":"m","messages":[{"role":"user","content":"q"}]}""");
        var created = await Check("default.addPrefix", """{"prefix":"SYS","applyToRole":"system"}""").RunAsync(noRole, Before);
        Assert.Equal("system", Str(created.TransformedRequest!["messages"]![0]!["role"]));
    }

    [Fact]
    public async Task AddPrefix_on_anthropic_system_uses_the_top_level_field_and_completions_prompt()
    {
        var ctx = Context("""{"model":"c","max_tokens":5,"system":"Base.","messages":[{"role":"user","content":[{"type":"text","text":"q"}]}]}""", "messages");
        var outcome = await Check("default.addPrefix", """{"prefix":"Pre. ","applyToRole":"system"}""").RunAsync(ctx, Before);
        Assert.Equal("Pre. Base.", Str(outcome.TransformedRequest!["system"]));
        Assert.Single(outcome.TransformedRequest!["messages"]!.AsArray());

        var user = await Check("default.addPrefix", """{"prefix":"P: "}""").RunAsync(ctx, Before);
        Assert.Equal("P: q", Str(user.TransformedRequest!["messages"]![0]!["content"]![0]!["text"]));

        var completion = await Check("default.addPrefix", """{"prefix":">> "}""").RunAsync(Context("""{"model":"m","prompt":"go"}""", "complete"), Before);
        Assert.Equal(">> go", Str(completion.TransformedRequest!["prompt"]));
    }

    [Fact]
    public async Task RequestParametersCheck_blocks_tools_and_parameter_values()
    {
        var check = Check("default.requestParametersCheck", """
            {"tools":{"blockedFunctionNames":["delete_all"]},"params":{"blockedKeys":["logit_bias"],"values":{"temperature":{"allowedValues":[0,0.5]}}}}
            """);
        var ok = Context("""{"model":"m","messages":[],"temperature":0.5,"tools":[{"type":"function","function":{"name":"search"}}]}""");
        Assert.True((await check.RunAsync(ok, Before)).Verdict);
        var badTool = Context("""{"model":"m","messages":[],"tools":[{"type":"function","function":{"name":"delete_all"}}]}""");
        var outcome = await check.RunAsync(badTool, Before);
        Assert.False(outcome.Verdict);
        Assert.Equal("name_blocked", Str(outcome.Data!["blockedToolsFound"]![0]!["reasons"]![0]));
        Assert.False((await check.RunAsync(Context("""{"model":"m","messages":[],"temperature":1}"""), Before)).Verdict);
        Assert.False((await check.RunAsync(Context("""{"model":"m","messages":[],"logit_bias":{}}"""), Before)).Verdict);
    }

    [Fact]
    public async Task Before_only_checks_refuse_to_run_after_when_called_directly()
    {
        var check = Check("default.requiredMetadataKeys", """{"metadataKeys":["a"],"operator":"all"}""");
        var outcome = await check.RunAsync(Answer("x"), HookEvent.AfterRequest);
        Assert.True(outcome.Verdict);
        Assert.NotNull(outcome.Error);
        var parameters = Check("default.requestParametersCheck", """{"params":{"blockedKeys":["n"]}}""");
        Assert.NotNull((await parameters.RunAsync(Answer("x"), HookEvent.AfterRequest)).Error);
    }
}
