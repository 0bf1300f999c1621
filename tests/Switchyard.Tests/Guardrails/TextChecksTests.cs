using System.Text.Json.Nodes;
using Switchyard.Core.Guardrails;
using Xunit;
using static Switchyard.Tests.Guardrails.GuardrailKit;

namespace Switchyard.Tests.Guardrails;

public sealed class TextChecksTests
{
    private const HookEvent Before = HookEvent.BeforeRequest;
    private const HookEvent After = HookEvent.AfterRequest;

    [Fact]
    public async Task RegexMatch_passes_on_match_fails_otherwise_and_inverts_with_not()
    {
        var check = Check("default.regexMatch", """{"rule":"order #(?<id>\\d+)"}""");
        var pass = await check.RunAsync(Chat("about order #123 please"), Before);
        Assert.True(pass.Verdict);
        Assert.Equal("order #123", Str(pass.Data!["matchDetails"]!["matchedText"]));
        Assert.Equal("123", Str(pass.Data!["matchDetails"]!["groups"]!["id"]));
        Assert.Equal(6, pass.Data!["matchDetails"]!["index"]!.GetValue<int>());
        Assert.False((await check.RunAsync(Chat("no order here"), Before)).Verdict);

        var inverted = Check("default.regexMatch", """{"rule":"\\d","not":true}""");
        Assert.False((await inverted.RunAsync(Chat("has 1 digit"), Before)).Verdict);
        var ok = await inverted.RunAsync(Chat("no digits"), Before);
        Assert.True(ok.Verdict);
        Assert.Contains("did not match the text as expected", Str(ok.Data!["explanation"]));
    }

    [Fact]
    public async Task RegexMatch_on_empty_text_is_an_error()
    {
        var outcome = await Check("default.regexMatch", """{"rule":"x"}""", After).RunAsync(Answer(""), After);
        Assert.False(outcome.Verdict);
        Assert.Equal("Missing text to match", outcome.Error!.Message);
        Assert.Equal("No text available", Str(outcome.Data!["textExcerpt"]));
    }

    [Fact]
    public async Task RegexMatch_stops_catastrophic_backtracking_with_an_error()
    {
        var services = new GuardrailServices(new HttpClient(), new Switchyard.Core.Security.CustomHostValidator(null)) { RegexTimeout = TimeSpan.FromMilliseconds(50) };
        var check = Check("default.regexMatch", """{"rule":"^(a+)+$"}""", services: services);
        var outcome = await check.RunAsync(Chat(new string('a', 40) + "!"), Before);
        Assert.NotNull(outcome.Error);
        Assert.Contains("too long", outcome.Error!.Message);
    }

    [Fact]
    public async Task RegexReplace_redacts_every_match_and_transforms_the_request()
    {
        var check = Check("default.regexReplace", """{"rule":"\\d{3}-\\d{4}","redactText":"[NUM]"}""");
        var ctx = Chat("call 555-1234 or 555-9876");
        var outcome = await check.RunAsync(ctx, Before);
        Assert.True(outcome.Verdict);
        Assert.True(outcome.Transformed);
        Assert.Equal("call [NUM] or [NUM]", Str(outcome.TransformedRequest!["messages"]![1]!["content"]));
        Assert.Equal("call 555-1234 or 555-9876", LastUserText(ctx)); // the check never edits the context itself

        var none = await check.RunAsync(Chat("nothing"), Before);
        Assert.False(none.Transformed);
        Assert.Null(none.TransformedRequest);
    }

    [Fact]
    public async Task RegexReplace_accepts_slash_flags_default_redaction_and_failOnDetection()
    {
        var check = Check("default.regexReplace", """{"rule":"/secret/gi","failOnDetection":true}""", After);
        var outcome = await check.RunAsync(Answer("The SECRET is Secret."), After);
        Assert.False(outcome.Verdict);
        Assert.Equal("The [REDACTED] is [REDACTED].", Str(outcome.TransformedResponse!["choices"]![0]!["message"]!["content"]));
        Assert.Null(outcome.TransformedRequest);
    }

    [Fact]
    public async Task RegexReplace_without_content_is_an_error_that_keeps_the_verdict()
    {
        var ctx = Chat("x");
        ctx.SetResponse(ChatCompletion(null), 200);
        var outcome = await Check("default.regexReplace", """{"rule":"x"}""", After).RunAsync(ctx, After);
        Assert.True(outcome.Verdict);
        Assert.Equal("Missing text to match", outcome.Error!.Message);
        Assert.False(outcome.Transformed);
    }

    [Fact]
    public async Task SentenceCount_counts_terminators_in_range_and_not()
    {
        var check = Check("default.sentenceCount", """{"minSentences":2,"maxSentences":3}""");
        Assert.True((await check.RunAsync(Chat("One. Two! Three?"), Before)).Verdict);
        var tooMany = await check.RunAsync(Chat("A. B. C. D."), Before);
        Assert.False(tooMany.Verdict);
        Assert.Equal(4, tooMany.Data!["sentenceCount"]!.GetValue<int>());
        Assert.False((await Check("default.sentenceCount", """{"minSentences":2,"maxSentences":3,"not":true}""").RunAsync(Chat("One. Two."), Before)).Verdict);
        // Empty text is zero sentences, not an error (as in Portkey).
        var empty = await Check("default.sentenceCount", """{"minSentences":0,"maxSentences":0}""", After).RunAsync(Answer(""), After);
        Assert.True(empty.Verdict);
        Assert.Null(empty.Error);
    }

    [Fact]
    public async Task WordCount_range_not_and_missing_text()
    {
        var check = Check("default.wordCount", """{"minWords":2,"maxWords":4}""");
        Assert.True((await check.RunAsync(Chat("  three little words  "), Before)).Verdict);
        Assert.False((await check.RunAsync(Chat("one"), Before)).Verdict);
        Assert.True((await Check("default.wordCount", """{"minWords":2,"maxWords":4,"not":true}""").RunAsync(Chat("a b c d e f"), Before)).Verdict);
        var error = await check.RunAsync(Chat("   "), Before);
        Assert.Equal("Missing text to analyze", error.Error!.Message);
    }

    [Fact]
    public async Task CharacterCount_range_not_and_missing_text()
    {
        var check = Check("default.characterCount", """{"minCharacters":1,"maxCharacters":5}""");
        Assert.True((await check.RunAsync(Chat("12345"), Before)).Verdict);
        Assert.False((await check.RunAsync(Chat("123456"), Before)).Verdict);
        Assert.True((await Check("default.characterCount", """{"maxCharacters":5,"not":true}""").RunAsync(Chat("123456"), Before)).Verdict);
        Assert.NotNull((await check.RunAsync(Chat(""), Before)).Error);
    }

    [Fact]
    public async Task EndsWith_allows_a_trailing_period_and_inverts()
    {
        var check = Check("default.endsWith", """{"suffix":"HTH"}""", After);
        Assert.True((await check.RunAsync(Answer("Answer. HTH"), After)).Verdict);
        Assert.True((await check.RunAsync(Answer("Answer. HTH."), After)).Verdict);
        Assert.False((await check.RunAsync(Answer("HTH, answer"), After)).Verdict);
        Assert.False((await Check("default.endsWith", """{"suffix":"HTH","not":true}""", After).RunAsync(Answer("ok HTH"), After)).Verdict);
        Assert.NotNull((await check.RunAsync(Answer(""), After)).Error);
    }

    [Fact]
    public async Task Letter_case_checks_ignore_non_letters()
    {
        var upper = Check("default.alluppercase", "{}", After);
        Assert.True((await upper.RunAsync(Answer("HELLO, WORLD 42!"), After)).Verdict);
        Assert.False((await upper.RunAsync(Answer("HELLO world"), After)).Verdict);
        Assert.True((await Check("default.alluppercase", """{"not":true}""", After).RunAsync(Answer("Mixed"), After)).Verdict);
        var lower = Check("default.alllowercase", "{}");
        Assert.True((await lower.RunAsync(Chat("quiet please 123"), Before)).Verdict);
        Assert.False((await lower.RunAsync(Chat("Loud"), Before)).Verdict);
        Assert.False((await Check("default.alllowercase", """{"not":true}""").RunAsync(Chat("quiet"), Before)).Verdict);
        Assert.NotNull((await lower.RunAsync(Chat(""), Before)).Error);
    }

    [Fact]
    public async Task Contains_operators_and_not()
    {
        var any = Check("default.contains", """{"words":["apple","pear"],"operator":"any"}""", After);
        Assert.True((await any.RunAsync(Answer("I like apple pie"), After)).Verdict);
        Assert.False((await any.RunAsync(Answer("I like Apple pie"), After)).Verdict); // case-sensitive
        var all = Check("default.contains", """{"words":["apple","pear"],"operator":"all"}""", After);
        var partial = await all.RunAsync(Answer("apple only"), After);
        Assert.False(partial.Verdict);
        Assert.Equal("pear", Str(partial.Data!["missingWords"]![0]));
        var none = Check("default.contains", """{"words":["forbidden"],"operator":"none"}""", After);
        Assert.True((await none.RunAsync(Answer("clean"), After)).Verdict);
        Assert.False((await none.RunAsync(Answer("this is forbidden"), After)).Verdict);
        var inverted = Check("default.contains", """{"words":["apple"],"operator":"any","not":true}""", After);
        Assert.False((await inverted.RunAsync(Answer("apple"), After)).Verdict);
        Assert.True((await inverted.RunAsync(Answer("banana"), After)).Verdict);
    }

    [Fact]
    public async Task ContainsCode_maps_fence_tags_and_handles_no_fences()
    {
        var check = Check("default.containsCode", """{"format":"Python"}""", After);
        var answer = "Here:\n```py\nprint(1)\n```\n";
        var outcome = await check.RunAsync(Answer(answer), After);
        Assert.True(outcome.Verdict);
        Assert.Equal("Python", Str(outcome.Data!["foundFormats"]![0]));
        Assert.False((await check.RunAsync(Answer("```js\nx()\n```"), After)).Verdict);
        Assert.False((await check.RunAsync(Answer("no code at all"), After)).Verdict);
        var inverted = Check("default.containsCode", """{"format":"SQL","not":true}""", After);
        Assert.True((await inverted.RunAsync(Answer("no code at all"), After)).Verdict); // no fences -> verdict = not
        Assert.False((await inverted.RunAsync(Answer("```sql\nselect 1\n```"), After)).Verdict);
        Assert.NotNull((await check.RunAsync(Answer(""), After)).Error);
    }

    [Fact]
    public async Task NotNull_fails_on_null_or_blank_content()
    {
        var check = Check("default.notNull", "{}", After);
        Assert.True((await check.RunAsync(Answer("content"), After)).Verdict);
        Assert.False((await check.RunAsync(Answer("   "), After)).Verdict);
        var nullContent = Chat("q");
        nullContent.SetResponse(ChatCompletion(null), 200);
        var outcome = await check.RunAsync(nullContent, After);
        Assert.False(outcome.Verdict);
        Assert.Equal("null", Str(outcome.Data!["contentType"]));
        Assert.True((await Check("default.notNull", """{"not":true}""", After).RunAsync(nullContent, After)).Verdict);
    }
}
